-- SILVER checks key_unique and key_not_null (critical): the business key of every SILVER table,
-- for the keys this run wrote (the rows of its change set's partitions). A MERGE on the key can
-- only duplicate a key it writes, so the keys it did not write were checked by the run that did:
-- the check reads the whole table only through those keys.
{% from '_changes.sql' import changed_batches %}
{% for feed in contract.feeds.values() %}
{%- set silver = ref('silver.' ~ feed.table) -%}
{%- set key_text = feed.key | join(" || '|' || ") -%}
select
    'key_unique', 'SILVER.{{ feed.table }}', '{{ window.end }}'::date,
    count(*) - count(distinct {{ key_text }}), 0, count(*) = count(distinct {{ key_text }}), 'critical',
    count(*) || ' rows of the keys this run wrote, ' || count(distinct {{ key_text }})
        || ' distinct ({{ feed.key | join(", ") }})'
from {{ silver }}
where {{ key_text }} in (
    select {{ key_text }} from {{ silver }} as written where written._batch_date in {{ changed_batches(feed.name) }}
)
    -- implied, and prunes the scan (a range on the column itself; see silver/_merge_latest.sql)
    and {{ feed.key[0] }} >= (
        select min(lo.{{ feed.key[0] }}) from {{ silver }} as lo where lo._batch_date in {{ changed_batches(feed.name) }}
    )
    and {{ feed.key[0] }} <= (
        select max(hi.{{ feed.key[0] }}) from {{ silver }} as hi where hi._batch_date in {{ changed_batches(feed.name) }}
    )

union all

select
    'key_not_null', 'SILVER.{{ feed.table }}', '{{ window.end }}'::date,
    count(*), 0, count(*) = 0, 'critical', count(*) || ' rows with a null key column'
from {{ silver }}
where _batch_date in {{ changed_batches(feed.name) }}
    and ({% for k in feed.key %}{{ k }} is null{{ ' or ' if not loop.last }}{% endfor %})
{{ 'union all' if not loop.last }}
{% endfor %}
