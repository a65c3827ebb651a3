-- MONTHLY_KPI (built in GOLD_STAGE): the months of the dates the build covers, per channel and for all
-- channels, from the sold lines of the whole month (distinct counts are per month, never sums
-- of days): orders, customers, days with sales, units, money and average order value
-- (docs/metrics.md).
{% from 'gold/_build.sql' import build %}
{% from 'gold/_revenue_lines.sql' import revenue_lines, kpis %}
{% from 'gold/_ratio.sql' import ratio %}
{% call build('MONTHLY_KPI') %}
with lines as (
    {{ revenue_lines('month') }}
),

kpis as (
    {{ kpis("date_trunc('month', revenue_date)::date") }}
)

select
    period as month_start, channel, orders, customers, days_with_sales, units, gross_amount, discount_amount, net_revenue,
    {{ ratio('net_revenue', 'orders', 2) }} as avg_order_value
from kpis
{% endcall %}
