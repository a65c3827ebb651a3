{#- The run's change set (audit/plan_change_set.sql) and what GOLD's build covers, as subqueries
    for `in (...)` filters. Every statement that uses them runs with the run's id bound to
    %(run_id)s. -#}

{#- Business dates of the feed's BRONZE partitions in the run's change set. -#}
{% macro changed_batches(feed) -%}
    (select batch_date from {{ ref('audit.TRANSFORM_CHANGES') }}
     where run_id = %(run_id)s and feed = '{{ feed }}')
{%- endmacro %}

{#- Business dates of any feed's BRONZE partitions in the run's change set. -#}
{% macro changed_dates() -%}
    (select batch_date from {{ ref('audit.TRANSFORM_CHANGES') }} where run_id = %(run_id)s)
{%- endmacro %}

{#- Dates (or months' first days) of one kind the staged GOLD build covers (gold/build.sql). -#}
{% macro build_dates(kind) -%}
    (select business_date from {{ ref('gold_stage.BUILD_DATES') }} where kind = '{{ kind }}')
{%- endmacro %}

{#- The dates whose completeness a run's change set can change: the business date, each date of
    its partitions and the day before each (its files carry late rows for it). One column, d. -#}
{% macro change_set_dates(business_date) -%}
    select '{{ business_date }}'::date as d
    union
    select batch_date from {{ changed_dates() }}
    union
    select dateadd(day, -1, batch_date)::date from {{ changed_dates() }}
{%- endmacro %}

{#- `column` within the least and greatest `key` of `query` (a subquery's text). Stated beside a
    join or an IN on the key, which imply it, for the scan: a range on the column itself lets
    Snowflake prune micro-partitions and DuckDB skip row groups, where the join or the IN alone
    reads all of them. -#}
{% macro within(column, key, query) -%}
    {{ column }} >= (select min({{ key }}) from ({{ query }}))
        and {{ column }} <= (select max({{ key }}) from ({{ query }}))
{%- endmacro %}
