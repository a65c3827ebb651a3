-- MONTHLY_REVENUE (built in GOLD_STAGE): the months of the dates the build covers, re-aggregated
-- from their days: those dates as just built in GOLD_STAGE, the month's other days as published
-- (docs/metrics.md).
{% from 'gold/_build.sql' import build %}
{% from '_changes.sql' import build_dates %}
{% call build('MONTHLY_REVENUE') %}
with days as (
    select revenue_date, channel, category, units, gross_amount, discount_amount, net_revenue
    from {{ ref('gold_stage.DAILY_REVENUE') }}
    union all
    select revenue_date, channel, category, units, gross_amount, discount_amount, net_revenue
    from {{ ref('gold.DAILY_REVENUE') }}
    where date_trunc('month', revenue_date)::date in {{ build_dates('month') }}
        and revenue_date not in {{ build_dates('revenue') }}
)

select
    date_trunc('month', revenue_date)::date as month_start,
    channel,
    category,
    count(distinct revenue_date) as days_with_sales,
    sum(units) as units,
    sum(gross_amount) as gross_amount,
    sum(discount_amount) as discount_amount,
    sum(net_revenue) as net_revenue
from days
group by date_trunc('month', revenue_date)::date, channel, category
{% endcall %}
