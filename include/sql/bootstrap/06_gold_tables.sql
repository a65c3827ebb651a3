-- GOLD: what dashboards and the churn model read, as include/sql/gold/gold.yml declares it. Each
-- publication replaces the rows its build covers in one transaction, so a reader always sees one
-- run's publication, never a mix.
{% for obj in declared('gold') if not obj.stage_only %}
create table if not exists {{ ref('gold.' ~ obj.name) }} (
{{ obj.ddl_columns() }}
);
{% endfor %}
-- GOLD_STAGE: where a run builds GOLD before its checks pass (write-audit-publish): the published
-- tables' columns, and the build's own bookkeeping (whose build it holds, which customers it changes).
{% for obj in declared('gold') if obj.publish or obj.stage_only %}
create table if not exists {{ ref('gold_stage.' ~ obj.name) }} (
{{ obj.ddl_columns() }}
);
{% endfor %}

-- The customer tables are views: what moves with the as-of date for every customer (recency,
-- tenure, the RFM scores against the day's distribution) is derived when read, from per-customer
-- rows GOLD keeps only for the customers a publication changed (gold/customer_rfm.sql,
-- gold/customer_features.sql) and the as-of date of the latest publication. A day's build and
-- publication therefore write the customers the day changed, not every customer.

-- RFM as of the latest publication (rules: docs/metrics.md):
--   r_score, m_score: 1 + floor(5 x the share of customers strictly worse): equal values, equal score.
--     Computed without a division: 1 + the number of k in 1..4 with k x customers <= 5 x worse.
--     Snowflake divides integers to 6 decimals (https://docs.snowflake.com/en/sql-reference/operators-arithmetic),
--     so floor(5 x worse / customers) rounds up to the next score for a boundary customer from
--     about 2 million customers on; products of integers are exact on every engine.
--   f_score: purchases 1 -> 1, 2 -> 2, 3 -> 3, 4-5 -> 4, 6 or more -> 5 (most customers tie at 1)
create or replace view {{ ref('gold.CUSTOMER_RFM') }} as
with totals as (
    select
        b.customer_id,
        a.as_of_date,
        datediff(day, b.last_purchase_date, a.as_of_date) as recency_days,
        b.frequency,
        b.monetary
    from {{ ref('gold.CUSTOMER_RFM_BASE') }} as b
    cross join {{ ref('gold.CUSTOMER_AS_OF') }} as a
),

ranked as (
    select
        totals.*,
        5 * (rank() over (order by recency_days desc) - 1) as recency_worse_x5,
        5 * (rank() over (order by monetary) - 1) as monetary_worse_x5,
        count(*) over () as customers
    from totals
),

scored as (
    select
        ranked.*,
        1 + iff(recency_worse_x5 >= customers, 1, 0) + iff(recency_worse_x5 >= 2 * customers, 1, 0)
        + iff(recency_worse_x5 >= 3 * customers, 1, 0) + iff(recency_worse_x5 >= 4 * customers, 1, 0) as r_score,
        case
            when frequency >= 6 then 5
            when frequency >= 4 then 4
            when frequency = 3 then 3
            when frequency = 2 then 2
            else 1
        end as f_score,
        1 + iff(monetary_worse_x5 >= customers, 1, 0) + iff(monetary_worse_x5 >= 2 * customers, 1, 0)
        + iff(monetary_worse_x5 >= 3 * customers, 1, 0) + iff(monetary_worse_x5 >= 4 * customers, 1, 0) as m_score
    from ranked
)

select
    customer_id, as_of_date,
    recency_days::number(38, 0) as recency_days,
    frequency, monetary,
    r_score::number(1, 0) as r_score,
    f_score::number(1, 0) as f_score,
    m_score::number(1, 0) as m_score,
    case
        when r_score >= 4 and f_score >= 4 then 'champions'
        when f_score >= 4 then 'loyal'
        when r_score >= 4 and f_score <= 2 then 'new_or_promising'
        when r_score <= 2 and f_score >= 3 then 'at_risk'
        when r_score <= 2 then 'hibernating'
        else 'needs_attention'
    end as rfm_segment  -- a one-purchase customer (f_score 1) is never a champion or loyal
from scored;

-- The churn model's inputs as of the latest publication (definitions: docs/metrics.md).
create or replace view {{ ref('gold.CUSTOMER_FEATURES') }} as
select
    b.customer_id, a.as_of_date, b.segment, b.state,
    datediff(day, b.signup_date, a.as_of_date)::number(38, 0) as tenure_days,
    b.purchases_total, b.online_orders_total, b.store_visits_total, b.purchases_90d,
    b.purchases_prev_90d, b.frequency_trend, b.spend_total, b.spend_90d, b.avg_order_value,
    -- never bought: recency counts from signup
    datediff(day, coalesce(b.last_purchase_date, b.signup_date), a.as_of_date)::number(38, 0) as recency_days,
    b.online_share, b.cancel_return_share, b.card_share, b.paypal_share, b.gift_card_share,
    b.bank_transfer_share
from {{ ref('gold.CUSTOMER_FEATURES_BASE') }} as b
cross join {{ ref('gold.CUSTOMER_AS_OF') }} as a;

-- Views for dashboards: every measure correct at the view's grain (docs/metrics.md).
create or replace view {{ ref('gold.V_KPI_DAILY_REVENUE') }} as
select {{ columns('gold.DAILY_KPI', prefix='k.') }}, c.status as completeness, c.missing_feeds
from {{ ref('gold.DAILY_KPI') }} as k
left join {{ ref('gold.DATE_COMPLETENESS') }} as c on c.business_date = k.revenue_date;

-- Per business date: whether its input is complete, provisional, partial or absent, and which feeds
-- are missing (the Control Tower page and BI read it; readers see GOLD's views, not its tables).
create or replace view {{ ref('gold.V_DATE_COMPLETENESS') }} as
select {{ columns('gold.DATE_COMPLETENESS') }}
from {{ ref('gold.DATE_COMPLETENESS') }};

create or replace view {{ ref('gold.V_KPI_MONTHLY_REVENUE') }} as
select {{ columns('gold.MONTHLY_KPI') }}
from {{ ref('gold.MONTHLY_KPI') }};

create or replace view {{ ref('gold.V_KPI_CUSTOMER_RFM') }} as
select {{ columns('gold.CUSTOMER_RFM') }}
from {{ ref('gold.CUSTOMER_RFM') }};

-- The publication of the newest business date (not the one published last: a backfill publishes
-- older dates after newer ones).
create or replace view {{ ref('gold.V_LATEST_PUBLICATION') }} as
select {{ columns('gold.PUBLICATIONS') }}
from {{ ref('gold.PUBLICATIONS') }}
qualify row_number() over (order by business_date desc, published_at desc) = 1;

-- Per GOLD table: the newest date whose input is complete (all its feeds and the next day's).
create or replace view {{ ref('gold.V_LATEST_COMPLETE_DATE') }} as
with complete_days as (
    select business_date from {{ ref('gold.DATE_COMPLETENESS') }} where status = 'complete'
),

whole_months as (
    select date_trunc('month', business_date)::date as month_start
    from complete_days
    group by date_trunc('month', business_date)::date
    having count(*) = datediff(day, date_trunc('month', min(business_date))::date,
                               dateadd(month, 1, date_trunc('month', min(business_date))::date))
)

select 'DAILY_REVENUE' as table_name, (select max(business_date) from complete_days) as latest_complete_date
union all
select 'DAILY_KPI', (select max(business_date) from complete_days)
union all
select 'MONTHLY_REVENUE', (select max(month_start) from whole_months)
union all
select 'MONTHLY_KPI', (select max(month_start) from whole_months)
union all
select 'CUSTOMER_RFM', (select max(a.as_of_date) from {{ ref('gold.CUSTOMER_AS_OF') }} as a
                        inner join complete_days as c on c.business_date = a.as_of_date
                        where exists (select 1 from {{ ref('gold.CUSTOMER_RFM_BASE') }}))
union all
select 'CUSTOMER_FEATURES', (select max(a.as_of_date) from {{ ref('gold.CUSTOMER_AS_OF') }} as a
                             inner join complete_days as c on c.business_date = a.as_of_date
                             where exists (select 1 from {{ ref('gold.CUSTOMER_FEATURES_BASE') }}));

-- Per GOLD table: its newest data date, how old that is, and whether it is within its SLA
-- (a day table: yesterday's data is expected, so at most 1 day old; a month table: the current
-- month's row, or last month's on the 1st, so at most 32 days after its month started).
-- Today is UTC's (sysdate()), whatever the reader's session time zone: current_date() follows the
-- session's TIMEZONE, America/Los_Angeles by default, and would call a stale table fresh for up to
-- 8 hours after midnight UTC (https://docs.snowflake.com/en/sql-reference/functions/sysdate).
create or replace view {{ ref('gold.V_FRESHNESS') }} as
with newest as (
    select 'DAILY_REVENUE' as table_name, max(revenue_date) as newest_date, 1 as sla_days
    from {{ ref('gold.DAILY_REVENUE') }}
    union all
    select 'DAILY_KPI', max(revenue_date), 1 from {{ ref('gold.DAILY_KPI') }}
    union all
    select 'MONTHLY_REVENUE', max(month_start), 32 from {{ ref('gold.MONTHLY_REVENUE') }}
    union all
    select 'MONTHLY_KPI', max(month_start), 32 from {{ ref('gold.MONTHLY_KPI') }}
    union all
    -- the customer views' as-of date, without deriving every customer's scores to read it
    select 'CUSTOMER_RFM', max(as_of_date), 1 from {{ ref('gold.CUSTOMER_AS_OF') }}
    where exists (select 1 from {{ ref('gold.CUSTOMER_RFM_BASE') }})
    union all
    select 'CUSTOMER_FEATURES', max(as_of_date), 1 from {{ ref('gold.CUSTOMER_AS_OF') }}
    where exists (select 1 from {{ ref('gold.CUSTOMER_FEATURES_BASE') }})
)

select
    table_name, newest_date, sla_days,
    datediff(day, newest_date, sysdate()::date) as age_days,
    iff(datediff(day, newest_date, sysdate()::date) <= sla_days, 'fresh', 'stale') as status
from newest;
