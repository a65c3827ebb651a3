-- MODEL: conformed dimensions and facts for analysts, as include/sql/model/model.yml declares
-- them (columns, types, keys; docs/architecture.md). A column added to a declaration reaches an
-- existing warehouse through the set-up's migrations (12_migrations.sql).
{% for obj in declared('model') %}
create table if not exists {{ ref('model.' ~ obj.name) }} (
{{ obj.ddl_columns() }}
);
{% endfor %}
