-- GOLD checks of the build in GOLD_STAGE (write-audit-publish: nothing is published unless the
-- critical ones pass; the previously published GOLD stays as it was).
--   revenue_reconciles (critical): for every date the build covers, GOLD net revenue equals the
--     sum of SILVER order lines (orders placed that day) and store sale lines (sold that day), to
--     the cent. Dates the build does not cover did not change since they reconciled.
--   monthly_equals_daily (critical): each month the build covers sums to its days (the built
--     ones and the published others).
--   has_revenue (warning): the business date has revenue at all (built now or published before).
{% from '_changes.sql' import build_dates %}
with days as (
    select business_date as d from {{ build_dates('revenue') }}
),

bounds as (
    select min(d)::timestamp_ntz as first_ts, dateadd(day, 1, max(d))::timestamp_ntz as end_ts from days
),

-- the SILVER rows of the covered dates, bounded on the timestamp columns themselves so that the
-- scans can skip what lies outside (a cast of the column to a date alone cannot)
silver_revenue as (
    select o.order_ts::date as d, sum(i.quantity * i.unit_price - i.discount_amount) as amount
    from {{ ref('silver.ORDER_ITEMS') }} as i
    inner join {{ ref('silver.ORDERS') }} as o on o.order_id = i.order_id
    where o.order_ts >= (select first_ts from bounds) and o.order_ts < (select end_ts from bounds)
        and o.order_ts::date in (select d from days)
    group by o.order_ts::date
    union all
    select sold_at::date, sum(quantity * unit_price - discount_amount)
    from {{ ref('silver.STORE_SALES') }}
    where sold_at >= (select first_ts from bounds) and sold_at < (select end_ts from bounds)
        and sold_at::date in (select d from days)
    group by sold_at::date
),

gold_revenue as (
    select revenue_date as d, sum(net_revenue) as amount
    from {{ ref('gold_stage.DAILY_REVENUE') }}
    group by revenue_date
),

compared as (
    select
        days.d,
        coalesce((select sum(amount) from silver_revenue where silver_revenue.d = days.d), 0) as silver_amount,
        coalesce((select sum(amount) from gold_revenue where gold_revenue.d = days.d), 0) as gold_amount
    from days
),

months as (
    select m.month_start, m.net_revenue as monthly, coalesce(d.daily, 0) as daily
    from (
        select month_start, sum(net_revenue) as net_revenue
        from {{ ref('gold_stage.MONTHLY_REVENUE') }}
        group by month_start
    ) as m
    left join (
        select date_trunc('month', revenue_date)::date as month_start, sum(net_revenue) as daily
        from (
            select revenue_date, net_revenue from {{ ref('gold_stage.DAILY_REVENUE') }}
            union all
            select revenue_date, net_revenue from {{ ref('gold.DAILY_REVENUE') }}
            where date_trunc('month', revenue_date)::date in {{ build_dates('month') }}
                and revenue_date not in {{ build_dates('revenue') }}
        )
        group by date_trunc('month', revenue_date)::date
    ) as d on d.month_start = m.month_start
)

select
    'revenue_reconciles' as check_name, 'GOLD.DAILY_REVENUE' as table_name, d as business_date,
    gold_amount as observed, silver_amount as threshold,
    abs(gold_amount - silver_amount) < 0.005 as passed, 'critical' as severity,
    'GOLD ' || to_varchar(gold_amount) || ' vs SILVER lines ' || to_varchar(silver_amount) as detail
from compared
union all
select
    'monthly_equals_daily', 'GOLD.MONTHLY_REVENUE', month_start, monthly, daily,
    abs(monthly - daily) < 0.005, 'critical',
    'month ' || to_varchar(monthly) || ' vs days ' || to_varchar(daily)
from months
union all
select
    'has_revenue', 'GOLD.DAILY_REVENUE', '{{ window.end }}'::date, amount, 0, amount > 0, 'warning',
    'net revenue on the business date'
from (
    select coalesce(sum(net_revenue), 0) as amount
    from (
        select net_revenue from {{ ref('gold_stage.DAILY_REVENUE') }} where revenue_date = '{{ window.end }}'::date
        union all
        select net_revenue from {{ ref('gold.DAILY_REVENUE') }}
        where revenue_date = '{{ window.end }}'::date and revenue_date not in {{ build_dates('revenue') }}
    )
)
