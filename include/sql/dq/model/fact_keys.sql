-- MODEL check key_unique (critical): the business key of each fact table.
{%- set s = wh.database ~ '.' ~ wh.silver -%}
{%- set m = wh.database ~ '.' ~ wh.model -%}
{%- set bd = "'" ~ window.end ~ "'::date" %}
select
    'key_unique', 'MODEL.FCT_ORDERS', {{ bd }}, count(*) - count(distinct order_id), 0,
    count(*) = count(distinct order_id), 'critical', count(*) || ' rows'
from {{ m }}.FCT_ORDERS
union all
select
    'key_unique', 'MODEL.FCT_ORDER_ITEMS', {{ bd }}, count(*) - count(distinct order_id || '|' || line_number), 0,
    count(*) = count(distinct order_id || '|' || line_number), 'critical', count(*) || ' rows'
from {{ m }}.FCT_ORDER_ITEMS
union all
select
    'key_unique', 'MODEL.FCT_PAYMENTS', {{ bd }}, count(*) - count(distinct payment_id), 0,
    count(*) = count(distinct payment_id), 'critical', count(*) || ' rows'
from {{ m }}.FCT_PAYMENTS
union all
select
    'key_unique', 'MODEL.FCT_STORE_SALES', {{ bd }}, count(*) - count(distinct transaction_id || '|' || line_number), 0,
    count(*) = count(distinct transaction_id || '|' || line_number), 'critical', count(*) || ' rows'
from {{ m }}.FCT_STORE_SALES
