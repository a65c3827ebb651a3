-- Change tracking: a run transforms what changed since the last publication, not a window
-- (docs/architecture.md, "What a run recomputes").
--
-- AUDIT.BRONZE_PARTITIONS   one row per BRONZE partition (feed, business date): when its current
--                           load committed, and which load a GOLD publication last covered.
--                           Pending = processed_loaded_at is distinct from loaded_at.
-- AUDIT.TRANSFORM_CHANGES   the partitions a run took as its change set (plan_change_set).
-- MODEL.PENDING_*           what the MODEL steps changed and GOLD has not published yet: revenue
--                           dates, customers, and customer activity deltas for the aggregates.
-- MODEL.CUSTOMER_ACTIVITY*  per-customer aggregates GOLD's RFM and features derive from.
-- GOLD_STAGE.BUILD_DATES    the dates and months the staged build covers (publish replaces those).
create table if not exists {{ ref('audit.BRONZE_PARTITIONS') }} (
    feed varchar not null,
    batch_date date not null,
    loaded_at timestamp_ntz not null,
    load_run_id varchar,
    processed_loaded_at timestamp_ntz,
    processed_run_id varchar
);

-- Partitions loaded before change tracking existed: pending once, so the next run re-merges them
-- all. The customer aggregates start empty then: run the full rebuild once after the upgrade
-- (docs/production.md, "Upgrading"). A no-op afterwards.
insert into {{ ref('audit.BRONZE_PARTITIONS') }} (feed, batch_date, loaded_at, load_run_id)
select f.feed, f.batch_date, max(f.last_seen_at), 'before change tracking'
from {{ ref('audit.FILE_LOADS') }} as f
where f.status = 'LOADED'
    and not exists (
        select 1
        from {{ ref('audit.BRONZE_PARTITIONS') }} as p
        where p.feed = f.feed and p.batch_date = f.batch_date
    )
group by f.feed, f.batch_date;

create table if not exists {{ ref('audit.TRANSFORM_CHANGES') }} (
    run_id varchar not null,
    feed varchar not null,
    batch_date date not null,
    loaded_at timestamp_ntz not null,
    forced boolean not null,           -- in the range a run's lookback_days asked to re-process
    planned_at timestamp_ntz default current_timestamp()
);

-- Revenue dates whose facts changed (either side of a change: an order that moved dates dirties
-- both), until a GOLD publication covers them.
create table if not exists {{ ref('model.PENDING_REVENUE_DATES') }} (
    revenue_date date not null,
    source varchar not null            -- the MODEL step that noted it
);

-- The order lines fct_order_items found new, changed or gone in its run (emptied by each run of
-- the step): what it writes to FCT_ORDER_ITEMS, and the revenue dates it notes.
{%- set line_columns = declared('model') | selectattr('name', 'equalto', 'FCT_ORDER_ITEMS') | first %}
create table if not exists {{ ref('model.ORDER_LINE_CHANGES') }} (
{{ line_columns.ddl_columns() }},
    previous_order_date date,          -- the line's order date in the fact before (null: new line)
    removed boolean not null           -- the fact has the line, its SILVER rows no longer give it
);

-- The SCD2 rows of the customers dim_customer found changed in its run (emptied by each run of
-- the step): what it writes to DIM_CUSTOMER.
{%- set customer_columns = declared('model') | selectattr('name', 'equalto', 'DIM_CUSTOMER') | first %}
create table if not exists {{ ref('model.CUSTOMER_VERSION_CHANGES') }} (
{{ customer_columns.ddl_columns() }}
);

-- Customers whose SCD2 versions or activity aggregates changed since GOLD last published them.
create table if not exists {{ ref('model.PENDING_CUSTOMERS') }} (
    customer_id varchar not null
);

{%- set activity_columns %}
    purchases number(38, 0) not null,             -- online orders + store transactions (loyalty card)
    online_purchases number(38, 0) not null,
    store_purchases number(38, 0) not null,
    spend number(18, 2) not null,                 -- their net amount
    orders number(38, 0) not null,                -- online orders, by order date
    cancelled_or_returned number(38, 0) not null, -- by the later of order date and status date
    paid number(18, 2) not null,                  -- payments of the customer's orders, by paid date
    card number(18, 2) not null,
    paypal number(18, 2) not null,
    gift_card number(18, 2) not null,
    bank_transfer number(18, 2) not null
{%- endset %}

-- Contributions of changed facts to customer activity, signed: a fact's old row subtracts, its
-- new row adds (written in the fact's own transaction, so a retry adds nothing).
create table if not exists {{ ref('model.PENDING_CUSTOMER_ACTIVITY') }} (
    customer_id varchar not null,
    activity_date date not null,
{{ activity_columns }}
);

-- One row per customer and date with any activity (docs/metrics.md, "Customer activity").
create table if not exists {{ ref('model.CUSTOMER_ACTIVITY_DAILY') }} (
    customer_id varchar not null,
    activity_date date not null,
{{ activity_columns }}
);

-- One row per customer with any activity: the sums over all dates, first and last purchase.
create table if not exists {{ ref('model.CUSTOMER_ACTIVITY') }} (
    customer_id varchar not null,
{{ activity_columns }},
    first_purchase_date date,
    last_purchase_date date
);

create table if not exists {{ ref('gold_stage.BUILD_DATES') }} (
    kind varchar not null,             -- revenue | month | completeness
    business_date date not null        -- the date, or the month's first day
);
