-- Local evaluation and tests only (local/history.py): months of simulated files' rows, with their
-- lineage columns already in the staged CSV, into a feed's BRONZE table in one COPY.
copy into {{ ref('bronze.' ~ feed.table) }}
    ({{ feed.column_names | join(', ') }}, _source_file, _source_line, _batch_date)
from @{{ ref('bronze.' ~ wh.stage) }}/{{ staged_path }}
file_format = (format_name = '{{ ref('bronze.' ~ wh.file_format) }}')
force = true
