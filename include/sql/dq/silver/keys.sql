-- SILVER checks key_unique and key_not_null (critical): the business key of every SILVER table.
{% for feed in contract.feeds.values() %}
{%- set silver = wh.database ~ '.' ~ wh.silver ~ '.' ~ feed.table -%}
{%- set key_text = feed.key | join(" || '|' || ") -%}
select
    'key_unique', 'SILVER.{{ feed.table }}', '{{ window.end }}'::date,
    count(*) - count(distinct {{ key_text }}), 0, count(*) = count(distinct {{ key_text }}), 'critical',
    count(*) || ' rows, ' || count(distinct {{ key_text }}) || ' distinct ({{ feed.key | join(", ") }})'
from {{ silver }}

union all

select
    'key_not_null', 'SILVER.{{ feed.table }}', '{{ window.end }}'::date,
    count(*), 0, count(*) = 0, 'critical', count(*) || ' rows with a null key column'
from {{ silver }}
where {% for k in feed.key %}{{ k }} is null{{ ' or ' if not loop.last }}{% endfor %}
{{ 'union all' if not loop.last }}
{% endfor %}
