-- The recovery notice of a business date was sent.
insert into {{ ref('audit.RECOVERY_NOTICES') }} (dag_id, business_date, run_id, failed_tasks)
values (%(dag_id)s, %(business_date)s::date, %(run_id)s, %(failed_tasks)s)
