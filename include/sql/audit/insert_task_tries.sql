-- The run-log rows of a DAG run's tries that had none when the run ended, in one statement
-- (include/audit.py settle_task_tries: the connector sends the values of every row at once; the
-- caller has just read which tries have their row).
insert into {{ ref('audit.TASK_RUN_LOG') }}
    (dag_id, task_id, run_id, map_index, try_number, business_date, state, max_tries, started_at,
     ended_at, duration_s, rows_affected, query_ids, error_class, error_message, hostname, operator,
     reported_by)
values
    (%(dag_id)s, %(task_id)s, %(run_id)s, %(map_index)s::number, %(try_number)s::number,
     %(business_date)s::date, %(state)s, %(max_tries)s::number, %(started_at)s::timestamp_ntz,
     %(ended_at)s::timestamp_ntz, %(duration_s)s::number(12, 3), %(rows_affected)s::number, %(query_ids)s,
     %(error_class)s, %(error_message)s, %(hostname)s, %(operator)s, %(reported_by)s)
