-- MODEL: conformed dimensions and facts for analysts. Keys (see docs/architecture.md):
--   DIM_CUSTOMER     customer_key (one per SCD2 version); customer_id + valid_from unique
--   DIM_PRODUCT      product_id        DIM_STORE  store_id        DIM_DATE  date_key
--   FCT_ORDERS       order_id          FCT_ORDER_ITEMS  order_id, line_number
--   FCT_PAYMENTS     payment_id        FCT_STORE_SALES  transaction_id, line_number
--   FCT_INVENTORY_SNAPSHOT  snapshot_date, store_id, product_id
create table if not exists {{ ref('model.DIM_DATE') }} (
    date_key date not null,
    year number(4, 0) not null,
    quarter number(1, 0) not null,
    month number(2, 0) not null,
    month_start date not null,
    day_of_month number(2, 0) not null,
    iso_day_of_week number(1, 0) not null,
    is_weekend boolean not null
);

create table if not exists {{ ref('model.DIM_CUSTOMER') }} (
    customer_key varchar not null,
    customer_id varchar not null,
    first_name varchar,
    last_name varchar,
    email varchar,
    segment varchar,
    city varchar,
    state varchar,
    zip_code varchar,
    signup_date date,
    valid_from timestamp_ntz not null,
    valid_to timestamp_ntz not null,   -- exclusive, 9999-12-31 for the current version
    is_current boolean not null
);

create table if not exists {{ ref('model.DIM_PRODUCT') }} (
    product_id varchar not null,
    product_name varchar,
    category varchar,
    brand varchar,
    unit_price number(14, 2),
    unit_cost number(14, 2),
    is_active boolean,
    updated_at timestamp_ntz
);

create table if not exists {{ ref('model.DIM_STORE') }} (
    store_id varchar not null,
    store_name varchar,
    store_type varchar,
    city varchar,
    state varchar,
    region varchar,
    opened_date date,
    updated_at timestamp_ntz
);

create table if not exists {{ ref('model.FCT_ORDERS') }} (
    order_id varchar not null,
    customer_id varchar not null,
    channel varchar not null,
    order_status varchar not null,
    order_date date not null,
    order_ts timestamp_ntz not null,
    status_updated_at timestamp_ntz not null,
    shipping_state varchar,
    item_count number(38, 0) not null,
    units number(38, 0) not null,
    gross_amount number(14, 2) not null,
    discount_amount number(14, 2) not null,
    net_amount number(14, 2) not null
);

create table if not exists {{ ref('model.FCT_ORDER_ITEMS') }} (
    order_id varchar not null,
    line_number number(38, 0) not null,
    product_id varchar not null,
    customer_id varchar not null,
    channel varchar not null,
    order_date date not null,
    shipping_state varchar,
    quantity number(38, 0) not null,
    unit_price number(14, 2) not null,
    discount_amount number(14, 2) not null,
    net_amount number(14, 2) not null
);

create table if not exists {{ ref('model.FCT_PAYMENTS') }} (
    payment_id varchar not null,
    order_id varchar not null,
    payment_method varchar not null,
    amount number(14, 2) not null,
    paid_at timestamp_ntz not null,
    paid_date date not null
);

create table if not exists {{ ref('model.FCT_STORE_SALES') }} (
    transaction_id varchar not null,
    line_number number(38, 0) not null,
    store_id varchar not null,
    product_id varchar not null,
    customer_id varchar,
    sold_at timestamp_ntz not null,
    sold_date date not null,
    quantity number(38, 0) not null,
    unit_price number(14, 2) not null,
    discount_amount number(14, 2) not null,
    net_amount number(14, 2) not null
);

create table if not exists {{ ref('model.FCT_INVENTORY_SNAPSHOT') }} (
    snapshot_date date not null,
    store_id varchar not null,
    product_id varchar not null,
    on_hand_qty number(38, 0) not null,
    on_order_qty number(38, 0) not null,
    reorder_point number(38, 0) not null,
    below_reorder_point boolean not null
);
