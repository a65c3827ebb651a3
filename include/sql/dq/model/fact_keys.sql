-- MODEL check key_unique (critical): the business key of each fact table, for the keys this run
-- rebuilt (the facts of its change set). A rebuild deletes and inserts exactly those keys, so only
-- they can have gained a duplicate; the check reads the rest of the table only through them.
{% from '_changes.sql' import changed_batches %}
{% from 'model/_touched_orders.sql' import touched_orders %}
{%- set bd = "'" ~ window.end ~ "'::date" %}
{%- set facts = [
    ('FCT_ORDERS', 'order_id', 'order_id in (' ~ touched_orders() ~ ')'),
    ('FCT_ORDER_ITEMS', "order_id || '|' || line_number", 'order_id in (' ~ touched_orders() ~ ')'),
    ('FCT_PAYMENTS', 'payment_id',
        'payment_id in (select payment_id from ' ~ ref('silver.PAYMENTS') ~ ' where _batch_date in ' ~ changed_batches('payments') ~ ')'),
    ('FCT_STORE_SALES', "transaction_id || '|' || line_number",
        "transaction_id || '|' || line_number in (select transaction_id || '|' || line_number from "
        ~ ref('silver.STORE_SALES') ~ ' where _batch_date in ' ~ changed_batches('store_sales') ~ ')'),
] %}
{% for table, key, rebuilt in facts %}
select
    'key_unique', 'MODEL.{{ table }}', {{ bd }}, count(*) - count(distinct {{ key }}), 0,
    count(*) = count(distinct {{ key }}), 'critical', count(*) || ' rows of the keys this run rebuilt'
from {{ ref('model.' ~ table) }}
where {{ rebuilt }}
{{ 'union all' if not loop.last }}
{% endfor %}
