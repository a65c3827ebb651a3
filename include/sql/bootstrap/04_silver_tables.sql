-- SILVER: one typed row per business key in its latest state, rendered from the feed contract.
-- The lineage columns are those of the BRONZE row that won (latest_by, then batch date, then
-- line), so re-applying any batch in any order converges to the same row.
{% for feed in contract.feeds.values() %}
create table if not exists {{ ref('silver.' ~ feed.table) }} (
{%- for col in feed.columns %}
    {{ col.name }} {{ col.sql_type }}{% if col.name in feed.key %} not null{% endif %},
{%- endfor %}
    _source_file varchar not null,
    _source_line number not null,
    _batch_date date not null
);
{% endfor %}
-- Every distinct customer record (one row per customer and updated_at): the history that
-- MODEL.DIM_CUSTOMER's SCD2 versions are derived from.
{% set customers = contract.feed('customers') %}
create table if not exists {{ ref('silver.CUSTOMER_VERSIONS') }} (
{%- for col in customers.columns %}
    {{ col.name }} {{ col.sql_type }}{% if col.name in ('customer_id', 'updated_at') %} not null{% endif %},
{%- endfor %}
    _source_file varchar not null,
    _source_line number not null,
    _batch_date date not null
);
