-- One business date's rows of an ML table, from the CSV file registry.replace_date_rows has just
-- PUT into the ML stage; it runs in one transaction with the delete of the date's rows. FORCE:
-- the file name is new each time, but load history must never skip a load; PURGE: the file is
-- not kept.
copy into {{ wh.database }}.{{ wh.ml }}.{{ table }} ({{ columns | join(', ') }})
from @{{ wh.database }}.{{ wh.ml }}.{{ wh.ml_stage }}/{{ staged_path }}
file_format = (type = csv skip_header = 1 field_optionally_enclosed_by = '"' empty_field_as_null = true)
force = true
purge = true
