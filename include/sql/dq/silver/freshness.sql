-- SILVER check freshness (warning): days between the business date and the newest event (or
-- batch) date of each SILVER table; more than one day is reported, never fatal. It reads the
-- rows of the last week's batches only (the newest data arrives in the newest batches): a table
-- without any is reported as having none. A feed whose files start after the date (active_from)
-- is not reported.
{% for feed in contract.feeds.values() if feed.active_on(window.end) %}
{%- set silver = ref('silver.' ~ feed.table) -%}
{% set newest = ('max(' ~ feed.event_time ~ ')::date') if feed.event_time else 'max(_batch_date)' -%}
select
    'freshness', 'SILVER.{{ feed.table }}', '{{ window.end }}'::date,
    datediff(day, {{ newest }}, '{{ window.end }}'::date), 1,
    coalesce(datediff(day, {{ newest }}, '{{ window.end }}'::date) <= 1, false), 'warning',
    'newest {{ feed.event_time or "batch date" }}: ' || coalesce(to_varchar({{ newest }}), 'none')
from {{ silver }}
where _batch_date > dateadd(day, -7, '{{ window.end }}'::date)
{{ 'union all' if not loop.last }}
{% endfor %}
