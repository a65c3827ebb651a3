-- GOLD: what dashboards and the churn model read. Each run replaces the rows of its window in
-- one transaction, so a reader always sees one run's publication, never a mix.
create table if not exists {{ wh.database }}.{{ wh.gold }}.DAILY_REVENUE (
    revenue_date date not null,
    channel varchar not null,          -- web | mobile | marketplace | store
    category varchar not null,         -- product category ('unknown' for an unknown product)
    state varchar not null,            -- shipping state (online) or store state
    orders number(38, 0) not null,     -- orders / store transactions with a line in the group
    units number(38, 0) not null,
    gross_amount number(14, 2) not null,
    discount_amount number(14, 2) not null,
    net_revenue number(14, 2) not null
);

create table if not exists {{ wh.database }}.{{ wh.gold }}.MONTHLY_REVENUE (
    month_start date not null,
    channel varchar not null,
    category varchar not null,
    days_with_sales number(38, 0) not null,
    units number(38, 0) not null,
    gross_amount number(14, 2) not null,
    discount_amount number(14, 2) not null,
    net_revenue number(14, 2) not null
);

create table if not exists {{ wh.database }}.{{ wh.gold }}.CUSTOMER_RFM (
    customer_id varchar not null,
    as_of_date date not null,
    recency_days number(38, 0) not null,
    frequency number(38, 0) not null,
    monetary number(14, 2) not null,
    r_score number(1, 0) not null,
    f_score number(1, 0) not null,
    m_score number(1, 0) not null,
    rfm_segment varchar not null
);

create table if not exists {{ wh.database }}.{{ wh.gold }}.CUSTOMER_FEATURES (
    customer_id varchar not null,
    as_of_date date not null,
    segment varchar,
    state varchar,
    tenure_days number(38, 0) not null,
    purchases_total number(38, 0) not null,
    online_orders_total number(38, 0) not null,
    store_visits_total number(38, 0) not null,
    purchases_90d number(38, 0) not null,
    purchases_prev_90d number(38, 0) not null,
    frequency_trend number(38, 0) not null,
    spend_total number(14, 2) not null,
    spend_90d number(14, 2) not null,
    avg_order_value number(14, 2) not null,
    recency_days number(38, 0) not null,
    online_share number(6, 4) not null,
    cancel_return_share number(6, 4) not null,
    card_share number(6, 4) not null,
    paypal_share number(6, 4) not null,
    gift_card_share number(6, 4) not null,
    bank_transfer_share number(6, 4) not null
);

-- One row per successful publication (a log: run ids and times differ between re-runs).
create table if not exists {{ wh.database }}.{{ wh.gold }}.PUBLICATIONS (
    business_date date not null,
    window_start date not null,
    window_end date not null,
    run_id varchar not null,
    daily_revenue_rows number(38, 0),
    customer_rows number(38, 0),
    published_at timestamp_ntz default current_timestamp()
);

-- GOLD_STAGE: where a run builds GOLD before its checks pass (write-audit-publish). Same
-- columns as the published tables; BUILD says whose build it holds and when it was published.
{% for table in ("DAILY_REVENUE", "MONTHLY_REVENUE", "CUSTOMER_RFM", "CUSTOMER_FEATURES") %}
create table if not exists {{ wh.database }}.{{ wh.gold_stage }}.{{ table }}
    like {{ wh.database }}.{{ wh.gold }}.{{ table }};
{% endfor %}

create table if not exists {{ wh.database }}.{{ wh.gold_stage }}.BUILD (
    run_id varchar not null,
    business_date date not null,
    window_start date not null,
    window_end date not null,
    built_at timestamp_ntz default current_timestamp(),
    published_at timestamp_ntz
);

create or replace view {{ wh.database }}.{{ wh.gold }}.V_KPI_DAILY_REVENUE as
select revenue_date, channel, sum(orders) as orders, sum(units) as units,
       sum(net_revenue) as net_revenue
from {{ wh.database }}.{{ wh.gold }}.DAILY_REVENUE
group by revenue_date, channel;

create or replace view {{ wh.database }}.{{ wh.gold }}.V_KPI_MONTHLY_REVENUE as
select month_start, channel, sum(units) as units, sum(net_revenue) as net_revenue
from {{ wh.database }}.{{ wh.gold }}.MONTHLY_REVENUE
group by month_start, channel;

create or replace view {{ wh.database }}.{{ wh.gold }}.V_KPI_CUSTOMER_RFM as
select customer_id, as_of_date, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_segment
from {{ wh.database }}.{{ wh.gold }}.CUSTOMER_RFM;

create or replace view {{ wh.database }}.{{ wh.gold }}.V_LATEST_PUBLICATION as
select business_date, window_start, window_end, run_id, daily_revenue_rows, customer_rows, published_at
from {{ wh.database }}.{{ wh.gold }}.PUBLICATIONS
qualify row_number() over (order by published_at desc) = 1;
