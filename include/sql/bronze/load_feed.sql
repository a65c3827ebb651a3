-- Replace one feed's BRONZE partition for one business date with a validated file, in one
-- transaction: a re-run of the date gives the same rows, never a second copy.
-- FORCE = TRUE because the partition was just emptied: load history must not skip the file.
-- Inputs (validated before rendering): feed, batch_date, staged_path, rejects_path.
delete from {{ ref('bronze.' ~ feed.table) }}
where _batch_date = '{{ batch_date }}';

copy into {{ ref('bronze.' ~ feed.table) }}
    ({{ feed.column_names | join(', ') }}, _source_file, _source_line, _batch_date, _extra)
from @{{ ref('bronze.' ~ wh.stage) }}/{{ staged_path }}
file_format = (format_name = '{{ ref('bronze.' ~ wh.file_format) }}')
force = true;

delete from {{ ref('audit.LOAD_REJECTS') }}
where feed = '{{ feed.name }}' and batch_date = '{{ batch_date }}';

{% if rejects_path %}
copy into {{ ref('audit.LOAD_REJECTS') }}
    (feed, batch_date, source_file, line_number, reason, raw_line)
from @{{ ref('bronze.' ~ wh.stage) }}/{{ rejects_path }}
file_format = (format_name = '{{ ref('bronze.' ~ wh.file_format) }}')
force = true;
{% endif %}

-- The partition's current load: pending for the transforms until a GOLD publication covers it
-- (bootstrap/11_change_tracking.sql).
delete from {{ ref('audit.BRONZE_PARTITIONS') }}
where feed = '{{ feed.name }}' and batch_date = '{{ batch_date }}';

insert into {{ ref('audit.BRONZE_PARTITIONS') }} (feed, batch_date, loaded_at, load_run_id)
select '{{ feed.name }}', '{{ batch_date }}'::date, current_timestamp(), %(run_id)s;
