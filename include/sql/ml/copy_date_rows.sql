-- One business date's rows of an ML table, from the CSV file registry.replace_date_rows has just
-- PUT into the ML stage (same transaction as the delete before it). FORCE: the file name is new
-- each time, but a re-run must never be skipped by load history; PURGE: the file is not kept.
copy into {{ wh.database }}.{{ wh.ml }}.{{ table }} ({{ columns | join(', ') }})
from @{{ wh.database }}.{{ wh.ml }}.{{ wh.ml_stage }}/{{ staged_path }}
file_format = (type = csv skip_header = 1 field_optionally_enclosed_by = '"' empty_field_as_null = true)
force = true
purge = true
