-- Tries of a DAG's business date that failed for good since the date's last recovery notice.
with last_notice as (
    select max(notified_at) as notified_at
    from {{ ref('audit.RECOVERY_NOTICES') }}
    where dag_id = %(dag_id)s and business_date = %(business_date)s::date
)
select task_id, try_number, error_class
from {{ ref('audit.TASK_RUN_LOG') }}
where dag_id = %(dag_id)s
  and business_date = %(business_date)s::date
  and state = 'failed'
  and logged_at > coalesce((select notified_at from last_notice), '1970-01-01'::timestamp_ntz)
order by logged_at, task_id
