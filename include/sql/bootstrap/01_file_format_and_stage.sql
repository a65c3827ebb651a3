-- How partner CSV files are read, and where validated files are loaded from.
-- Production: an external stage over the landing bucket's staging/ prefix through a storage
-- integration (created once by an account admin, see docs/production.md).
-- Local stack: an internal stage; the load task PUTs each validated file into it first.
-- "or replace": a changed definition applies on the next deploy; nothing stores data in it.
create or replace file format {{ wh.database }}.{{ wh.bronze }}.{{ wh.file_format }}
    type = csv
    skip_header = 1
    field_optionally_enclosed_by = '"'
    empty_field_as_null = true;
-- Encoding is Snowflake's default, UTF8; ingestion has already rejected rows that are not.

{% if wh.stage_mode == 'external' %}
create stage if not exists {{ wh.database }}.{{ wh.bronze }}.{{ wh.stage }}
    url = 's3://{{ landing.bucket }}/{{ landing.staging }}/'
    storage_integration = {{ wh.storage_integration }}
    file_format = {{ wh.database }}.{{ wh.bronze }}.{{ wh.file_format }};
{% else %}
create stage if not exists {{ wh.database }}.{{ wh.bronze }}.{{ wh.stage }};
{% endif %}
