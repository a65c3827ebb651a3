-- How partner CSV files are read, and where validated files are loaded from.
-- Production: an external stage over the landing bucket's staging/ prefix through a storage
-- integration (created once by an account admin, see docs/production.md).
-- Local stack: an internal stage; the load task PUTs each validated file into it first.
-- "create or alter": a changed definition applies on the next deploy, and the format keeps its
-- grants (the loader's USAGE); "create or replace" would drop them, and no future grant brings
-- them back (https://docs.snowflake.com/en/sql-reference/sql/create-file-format#create-or-alter-file-format).
-- The files are what ingestion wrote (include/ingest/validation.py, Python's csv module): a field
-- is enclosed in double quotes when it holds a comma, a quote or a line break, a quote inside is
-- doubled, and nothing else is escaped. So:
-- - escape_unenclosed_field = none: Snowflake's default is a backslash, which would decode a
--   partner's "a\tb" into a tab and let a value ending in "\" swallow the comma after it;
-- - null_if = (): Snowflake's default ('\N') would load a partner's literal \N as NULL. An empty,
--   unenclosed field is NULL (empty_field_as_null).
-- Encoding is Snowflake's default, UTF8; ingestion has already rejected rows that are not.
create or alter file format {{ ref('bronze.' ~ wh.file_format) }}
    type = csv
    skip_header = 1
    field_optionally_enclosed_by = '"'
    escape_unenclosed_field = none
    null_if = ()
    empty_field_as_null = true;

{% if wh.stage_mode == 'external' %}
create stage if not exists {{ ref('bronze.' ~ wh.stage) }}
    url = 's3://{{ landing.bucket }}/{{ landing.staging }}/'
    storage_integration = {{ wh.storage_integration }}
    file_format = {{ ref('bronze.' ~ wh.file_format) }};
{% else %}
create stage if not exists {{ ref('bronze.' ~ wh.stage) }};
{% endif %}
