-- The run-log row of one task try, when it exists already: a state set in the UI after the try's
-- row was written. audit/insert_task_try.sql runs first; this only when it found the row there.
-- (Plain statements rather than a MERGE: one statement in the usual case, and the local stand-in
-- runs a MERGE ~20x slower.)
update {{ ref('audit.TASK_RUN_LOG') }}
set
    state = %(state)s,
    business_date = coalesce(%(business_date)s::date, business_date),
    max_tries = coalesce(%(max_tries)s::number, max_tries),
    started_at = coalesce(%(started_at)s::timestamp_ntz, started_at),
    ended_at = coalesce(%(ended_at)s::timestamp_ntz, ended_at),
    duration_s = coalesce(%(duration_s)s::number(12, 3), duration_s),
    rows_affected = coalesce(%(rows_affected)s::number, rows_affected),
    query_ids = coalesce(%(query_ids)s, query_ids),
    error_class = coalesce(%(error_class)s, error_class),
    error_message = coalesce(%(error_message)s, error_message),
    hostname = coalesce(%(hostname)s, hostname),
    operator = coalesce(%(operator)s, operator),
    reported_by = %(reported_by)s,
    logged_at = current_timestamp()
where dag_id = %(dag_id)s and task_id = %(task_id)s and run_id = %(run_id)s
    and map_index = %(map_index)s::number and try_number = %(try_number)s::number
