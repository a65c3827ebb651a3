-- DAILY_KPI (built in GOLD_STAGE): per day the build covers and channel, and for all channels together
-- (channel = 'all'), distinct orders, distinct customers, units, gross, discount, net revenue and
-- average order value, computed from the sold lines at this grain (docs/metrics.md).
{% from 'gold/_build.sql' import build %}
{% from 'gold/_revenue_lines.sql' import revenue_lines, kpis %}
{% from 'gold/_ratio.sql' import ratio %}
{% call build('DAILY_KPI') %}
with lines as (
    {{ revenue_lines('revenue') }}
),

kpis as (
    {{ kpis('revenue_date') }}
)

select
    period as revenue_date, channel, orders, customers, units, gross_amount, discount_amount, net_revenue,
    {{ ratio('net_revenue', 'orders', 2) }} as avg_order_value
from kpis
{% endcall %}
