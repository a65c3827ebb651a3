-- DAILY_REVENUE (built in GOLD_STAGE, published by gold/publish.sql): booked net revenue per day,
-- channel, product category and state, for every date the build covers (definitions: docs/metrics.md).
-- `orders` counts the orders/transactions with a line in the row's group: it is not additive
-- across categories or states (one order can hold several); V_KPI_DAILY_REVENUE has the totals.
-- Cancellations and returns are not deducted.
{% from 'gold/_build.sql' import build %}
{% from 'gold/_revenue_lines.sql' import revenue_lines %}
{% call build('DAILY_REVENUE') %}
with lines as (
    {{ revenue_lines('revenue') }}
)

select
    revenue_date, channel, category, state,
    count(distinct basket_key) as orders,
    sum(quantity) as units,
    sum(gross_amount) as gross_amount,
    sum(discount_amount) as discount_amount,
    sum(net_amount) as net_revenue
from lines
group by revenue_date, channel, category, state
{% endcall %}
