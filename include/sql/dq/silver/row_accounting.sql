-- SILVER check row_accounting (critical), per feed, for the run's own batch: rows in the file =
-- rows in BRONZE + rejected rows, and every BRONZE key of the batch is in SILVER (BRONZE rows =
-- distinct keys + duplicates). The other dates were accounted for by their own runs.
-- Columns of every check file: check_name, table_name, business_date, observed, threshold, passed,
-- severity, detail.
{% from 'silver/_merge_latest.sql' import typed %}
{% for feed in contract.feeds.values() %}
{%- set bronze = ref('bronze.' ~ feed.table) -%}
{%- set silver = ref('silver.' ~ feed.table) -%}
{%- set key_text = feed.key | join(" || '|' || ") -%}
select
    'row_accounting' as check_name,
    'SILVER.{{ feed.table }}' as table_name,
    f.batch_date as business_date,
    coalesce(b.bronze_rows, 0) + coalesce(r.rejected_rows, 0) as observed,
    f.rows_in_file as threshold,
    coalesce(b.bronze_rows, 0) + coalesce(r.rejected_rows, 0) = f.rows_in_file
        and coalesce(m.missing_keys, 0) = 0 as passed,
    'critical' as severity,
    f.rows_in_file || ' rows in file = ' || coalesce(b.bronze_rows, 0) || ' loaded ('
        || coalesce(b.bronze_keys, 0) || ' keys + ' || (coalesce(b.bronze_rows, 0) - coalesce(b.bronze_keys, 0))
        || ' duplicates) + ' || coalesce(r.rejected_rows, 0) || ' rejected, '
        || coalesce(m.missing_keys, 0) || ' keys missing in SILVER' as detail
from (
    select batch_date, rows_in_file
    from {{ ref('audit.FILE_LOADS') }}
    where feed = '{{ feed.name }}' and status = 'LOADED' and batch_date = '{{ window.end }}'
    qualify row_number() over (partition by batch_date order by last_seen_at desc) = 1
) as f
left join (
    select _batch_date, count(*) as bronze_rows, count(distinct {{ key_text }}) as bronze_keys
    from {{ bronze }}
    where _batch_date = '{{ window.end }}'
    group by _batch_date
) as b on b._batch_date = f.batch_date
left join (
    select batch_date, count(*) as rejected_rows
    from {{ ref('audit.LOAD_REJECTS') }}
    where feed = '{{ feed.name }}' and batch_date = '{{ window.end }}'
    group by batch_date
) as r on r.batch_date = f.batch_date
left join (
    select k._batch_date, count(*) as missing_keys
    from (
        select distinct _batch_date{% for k in feed.key %}, {{ typed(feed.column(k)) }} as {{ k }}{% endfor %}
        from {{ bronze }}
        where _batch_date = '{{ window.end }}'
    ) as k
    left join {{ silver }} as s on {% for k in feed.key %}s.{{ k }} = k.{{ k }}{{ ' and ' if not loop.last }}{% endfor %}
        -- implied, and prunes the scan of SILVER (a range on the column itself)
        and s.{{ feed.key[0] }} >= (
            select min({{ typed(feed.column(feed.key[0])) }}) from {{ bronze }} where _batch_date = '{{ window.end }}'
        )
        and s.{{ feed.key[0] }} <= (
            select max({{ typed(feed.column(feed.key[0])) }}) from {{ bronze }} where _batch_date = '{{ window.end }}'
        )
    where s.{{ feed.key[0] }} is null
    group by k._batch_date
) as m on m._batch_date = f.batch_date
{{ 'union all' if not loop.last }}
{% endfor %}
