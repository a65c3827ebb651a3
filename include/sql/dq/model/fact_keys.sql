-- MODEL check key_unique (critical): the key of each fact include/sql/model/model.yml declares
-- the check for, over the keys this run rebuilt (`rebuilt`: the orders its change set touched, or
-- a feed's changed batches). A rebuild deletes and inserts exactly those keys, so only they can
-- have gained a duplicate; the check reads the rest of the table only through them.
{% from '_changes.sql' import changed_batches %}
{% from 'model/_touched_orders.sql' import touched_orders, within_touched %}
{%- set bd = "'" ~ window.end ~ "'::date" %}
{%- set facts = declared('model') | selectattr('checks') | selectattr('rebuilt') | list %}
{% for obj in facts if 'key_unique' in obj.checks %}
{%- set key = obj.key | join(" || '|' || ") %}
{%- if obj.rebuilt == 'orders' %}
{%- set rebuilt = within_touched('order_id') ~ ' and order_id in (' ~ touched_orders() ~ ')' %}
{%- else %}
{%- set rebuilt = key ~ ' in (select ' ~ key ~ ' from ' ~ ref('silver.' ~ contract.feed(obj.rebuilt).table)
    ~ ' where _batch_date in ' ~ changed_batches(obj.rebuilt) ~ ')' %}
{%- endif %}
select
    'key_unique', 'MODEL.{{ obj.name }}', {{ bd }}, count(*) - count(distinct {{ key }}), 0,
    count(*) = count(distinct {{ key }}), 'critical', count(*) || ' rows of the keys this run rebuilt'
from {{ ref('model.' ~ obj.name) }}
where {{ rebuilt }}
{{ 'union all' if not loop.last }}
{% endfor %}
