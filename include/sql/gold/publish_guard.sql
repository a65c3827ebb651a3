-- May this run publish GOLD_STAGE? One row: whose build GOLD_STAGE holds, and the results of this
-- run's GOLD check tasks that recorded results since that build (all must have, and no critical
-- result may have failed).
select
    b.run_id as staged_run_id,
    b.window_start,
    b.window_end,
    (select count(distinct r.task_id)
     from {{ ref('audit.DQ_RESULTS') }} as r
     where r.run_id = b.run_id and r.layer = 'gold' and r.checked_at >= b.built_at) as checks_recorded,
    (select count(*)
     from {{ ref('audit.DQ_RESULTS') }} as r
     where r.run_id = b.run_id and r.layer = 'gold' and r.checked_at >= b.built_at
         and not r.passed and r.severity = 'critical') as critical_failures
from {{ ref('gold_stage.BUILD') }} as b
