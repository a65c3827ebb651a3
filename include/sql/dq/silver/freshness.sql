-- SILVER check freshness (warning): days between the business date and the newest event (or
-- batch) date of each SILVER table; more than one day is reported, never fatal.
{% for feed in contract.feeds.values() %}
{%- set silver = wh.database ~ '.' ~ wh.silver ~ '.' ~ feed.table -%}
{% set newest = ('max(' ~ feed.event_time ~ ')::date') if feed.event_time else 'max(_batch_date)' -%}
select
    'freshness', 'SILVER.{{ feed.table }}', '{{ window.end }}'::date,
    datediff(day, {{ newest }}, '{{ window.end }}'::date), 1,
    coalesce(datediff(day, {{ newest }}, '{{ window.end }}'::date) <= 1, false), 'warning',
    'newest {{ feed.event_time or "batch date" }}: ' || coalesce(to_varchar({{ newest }}), 'none')
from {{ silver }}
{{ 'union all' if not loop.last }}
{% endfor %}
