-- CUSTOMER_RFM_BASE (built in GOLD_STAGE for the customers in GOLD_STAGE.CUSTOMER_CHANGES, published
-- by gold/publish.sql): per customer with at least one purchase (an online order, or a store
-- transaction with their loyalty card), the last purchase date, purchases and money spent, from
-- the customer aggregates MODEL keeps up to date (MODEL.CUSTOMER_ACTIVITY), so the daily cost
-- follows the customers that changed, not the history or the customer count. The view
-- GOLD.CUSTOMER_RFM derives recency as of the published as-of date and the scores and segments
-- against every customer's when read (rules: docs/metrics.md). Every purchase is dated on or before
-- the as-of date (the latest sale date).
{% from 'gold/_build.sql' import build %}
{% call build('CUSTOMER_RFM_BASE') %}
select
    c.customer_id,
    c.last_purchase_date,
    c.purchases as frequency,
    c.spend::number(14, 2) as monetary  -- exact cents: equal spend, equal rank on any engine
from {{ ref('model.CUSTOMER_ACTIVITY') }} as c
where c.purchases > 0
    and c.customer_id in (select customer_id from {{ ref('gold_stage.CUSTOMER_CHANGES') }})
{% endcall %}
