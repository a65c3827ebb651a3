-- Control Tower, "alerts" panel: every alert of the runs of these business dates, sent or lost
-- (a run's business date from the run-log).
select r.business_date, a.status, a.subject, a.task_id, a.channel, a.logged_at
from {{ ref('audit.ALERT_LOG') }} as a
inner join (
    select distinct dag_id, run_id, business_date
    from {{ ref('audit.DAG_RUN_LOG') }}
    where business_date between %(first)s and %(last)s
) as r on r.run_id = a.run_id and r.dag_id = a.dag_id
order by r.business_date, a.logged_at
