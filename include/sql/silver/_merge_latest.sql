{#- Shared by the SILVER objects: a "newer wins" MERGE from the BRONZE partitions of the run's
    change set (audit/plan_change_set.sql): what was loaded since the last publication.

    ordering = the feed's latest_by columns, then _batch_date, then _source_line. The source keeps
    the highest-ordered row per key; the target row is replaced only by a row ordered at least as
    high. Applying batches in any order, or twice, therefore ends in the same row per key.
-#}
{#- A column added in a later contract version (`since`): rows loaded before it was declared
    kept its value in _extra (the file's columns the contract did not have yet). -#}
{% macro raw(col) -%}
    {%- if col.since -%}coalesce({{ col.name }}, parse_json(nullif(_extra, '')):{{ col.name }}::varchar)
    {%- else -%}{{ col.name }}
    {%- endif -%}
{%- endmacro %}

{% macro typed(col, clean={}) -%}
    {%- if col.name in clean -%}{{ clean[col.name] }}
    {%- elif col.type == 'string' -%}nullif(trim({{ raw(col) }}), '')
    {%- else -%}{{ raw(col) }}::{{ col.sql_type }}
    {%- endif -%}
{%- endmacro %}

{% macro newer_or_same(ordering) -%}
    {%- set c = ordering[0] -%}
    {%- if ordering | length == 1 -%}s.{{ c }} >= t.{{ c }}
    {%- else -%}(s.{{ c }} > t.{{ c }} or (s.{{ c }} = t.{{ c }} and {{ newer_or_same(ordering[1:]) }}))
    {%- endif -%}
{%- endmacro %}

{% from '_changes.sql' import changed_batches %}
{% macro merge_latest(feed, target, key, clean={}) -%}
{%- set ordering = (feed.latest_by | list) + ['_batch_date', '_source_line'] -%}
{%- set columns = feed.column_names + ['_source_file', '_source_line', '_batch_date'] -%}
merge into {{ ref('silver.' ~ target) }} as t
using (
    select {{ columns | join(', ') }}
    from (
        select
{%- for col in feed.columns %}
            {{ typed(col, clean) }} as {{ col.name }},
{%- endfor %}
            _source_file,
            _source_line,
            _batch_date
        from {{ ref('bronze.' ~ feed.table) }}
        where _batch_date in {{ changed_batches(feed.name) }}
    )
    qualify row_number() over (
        partition by {{ key | join(', ') }}
        order by {% for c in ordering %}{{ c }} desc{{ ', ' if not loop.last }}{% endfor %}
    ) = 1
) as s
on {% for k in key %}t.{{ k }} = s.{{ k }}{{ ' and ' if not loop.last }}{% endfor %}
    {#- implied by the key's equality, stated for the scan of the target: a range of its first key
        column lets Snowflake prune micro-partitions (DuckDB: row groups) outside the keys the change
        set brings, where the join alone reads all of the target (an uncorrelated scalar subquery
        may stand wherever a value can: https://docs.snowflake.com/en/user-guide/querying-subqueries;
        the preflight's `compile` section EXPLAINs this MERGE on the account) -#}
    {%- set first = feed.column(key[0]) %}
    and t.{{ key[0] }} >= (
        select min({{ typed(first, clean) }}) from {{ ref('bronze.' ~ feed.table) }}
        where _batch_date in {{ changed_batches(feed.name) }}
    )
    and t.{{ key[0] }} <= (
        select max({{ typed(first, clean) }}) from {{ ref('bronze.' ~ feed.table) }}
        where _batch_date in {{ changed_batches(feed.name) }}
    )
{#- A record sent again unchanged (about 150,000 customers a day) moves only its lineage: the
    first matched clause whose condition holds applies (https://docs.snowflake.com/en/sql-reference/sql/merge,
    matchedClause), and IS DISTINCT FROM takes two nulls as equal
    (https://docs.snowflake.com/en/sql-reference/functions/is-distinct-from). The row is the same
    as with one clause; the stand-in updates 3 columns instead of all of them (docs/performance.md).
    Why the lineage moves at all: docs/architecture.md, "Concurrency and order". -#}
{%- set content = feed.column_names | reject('in', key) | list %}
{%- if content %}
when matched and {{ newer_or_same(ordering) }} and (
{%- for c in content %}
    s.{{ c }} is distinct from t.{{ c }}{{ ' or' if not loop.last }}
{%- endfor %}
) then update set
{%- for c in columns if c not in key %}
    {{ c }} = s.{{ c }}{{ ',' if not loop.last }}
{%- endfor %}
{%- endif %}
when matched and {{ newer_or_same(ordering) }} then update set
    _source_file = s._source_file,
    _source_line = s._source_line,
    _batch_date = s._batch_date
when not matched then insert ({{ columns | join(', ') }})
    values ({% for c in columns %}s.{{ c }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}
