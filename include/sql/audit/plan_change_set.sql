-- The run's change set: every BRONZE partition of its business date or before loaded since a
-- GOLD publication last covered it (whichever run loaded it: a run that failed before GOLD, a
-- concurrent backfill's), and, when the run's lookback_days is above 0, every partition of
-- the business date and the lookback_days before it again (a forced re-processing: the
-- runbook's full rebuild). SILVER, MODEL and GOLD of this run read exactly these partitions.
-- Taken under the transform lock; a partition loaded after this is the next run's. A later date's
-- partitions wait for a run of that date or later: a run never sees data from after its date, so
-- its checks of its own date give the same answer whichever run transformed first.
-- gold/publish.sql marks them processed when the run's GOLD is published.
begin;

delete from {{ ref('audit.TRANSFORM_CHANGES') }} where run_id = %(run_id)s;

insert into {{ ref('audit.TRANSFORM_CHANGES') }} (run_id, feed, batch_date, loaded_at, forced)
{%- set forced = window.start < window.end %}
select
    %(run_id)s, feed, batch_date, loaded_at,
    {% if forced %}batch_date between '{{ window.start }}' and '{{ window.end }}'{% else %}false{% endif %}
from {{ ref('audit.BRONZE_PARTITIONS') }}
where (processed_loaded_at is distinct from loaded_at and batch_date <= '{{ window.end }}')
{%- if forced %}
    or batch_date between '{{ window.start }}' and '{{ window.end }}'
{%- endif %};

commit;
