-- MODEL: conformed dimensions and facts for analysts, as include/sql/model/model.yml declares
-- them (columns, types, keys; docs/architecture.md). A column added to a declaration reaches an
-- existing warehouse through the set-up's migrations (12_migrations.sql).
{#- A clustering key (model.yml `cluster_by`) is set on a new table and on one that exists; setting
    the key it has is a no-op (https://docs.snowflake.com/en/sql-reference/sql/alter-table). -#}
{% for obj in declared('model') %}
create table if not exists {{ ref('model.' ~ obj.name) }} (
{{ obj.ddl_columns() }}
){% if obj.cluster_by %} cluster by ({{ obj.cluster_by | join(', ') }}){% endif %};
{%- if obj.cluster_by %}

alter table {{ ref('model.' ~ obj.name) }} cluster by ({{ obj.cluster_by | join(', ') }});
{%- endif %}
{% endfor %}
