-- One business date's rows of an ML table, from the CSV file registry.replace_date_rows has just
-- PUT into the ML stage; it runs in one transaction with the delete of the date's rows. FORCE:
-- the file name is new each time, but load history must never skip a load; PURGE: the file is
-- not kept. The file is Python's csv (text enclosed, quotes doubled, NULL an empty unenclosed
-- field): no backslash escapes and no NULL_IF string, unlike Snowflake's defaults (see
-- bootstrap/01_file_format_and_stage.sql).
copy into {{ ref('ml.' ~ table) }} ({{ columns | join(', ') }})
from @{{ ref('ml.' ~ wh.ml_stage) }}/{{ staged_path }}
file_format = (
    type = csv skip_header = 1 field_optionally_enclosed_by = '"' escape_unenclosed_field = none null_if = ()
    empty_field_as_null = true
)
force = true
purge = true
