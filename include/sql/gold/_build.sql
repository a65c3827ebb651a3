{#- A GOLD table's build in GOLD_STAGE: the staged table emptied, then filled with the call's
    query, whose output columns are named as the table's declared columns (include/sql/gold/gold.yml);
    the insert lists them from the declaration, so a new column is its declaration and its
    expression in the query. -#}
{% macro build(name) -%}
delete from {{ ref('gold_stage.' ~ name) }};

insert into {{ ref('gold_stage.' ~ name) }} ({{ columns('gold.' ~ name) }})
select {{ columns('gold.' ~ name) }}
from (
{{ caller() }}
) as built
{%- endmacro %}
