-- The run-log row of one task try, unless it has one already (then audit/update_task_try.sql
-- updates it: a state set by hand after the try's row was written).
insert into {{ ref('audit.TASK_RUN_LOG') }}
    (dag_id, task_id, run_id, map_index, try_number, business_date, state, max_tries, started_at,
     ended_at, duration_s, rows_affected, query_ids, error_class, error_message, hostname, operator,
     reported_by)
select
    %(dag_id)s, %(task_id)s, %(run_id)s, %(map_index)s::number, %(try_number)s::number,
    %(business_date)s::date, %(state)s, %(max_tries)s::number, %(started_at)s::timestamp_ntz,
    %(ended_at)s::timestamp_ntz, %(duration_s)s::number(12, 3), %(rows_affected)s::number, %(query_ids)s,
    %(error_class)s, %(error_message)s, %(hostname)s, %(operator)s, %(reported_by)s
where not exists (
    select 1 from {{ ref('audit.TASK_RUN_LOG') }}
    where dag_id = %(dag_id)s and task_id = %(task_id)s and run_id = %(run_id)s
        and map_index = %(map_index)s::number and try_number = %(try_number)s::number
)
