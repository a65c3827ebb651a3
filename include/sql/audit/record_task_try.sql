-- Upsert the run-log row of one task try (the listener writes it when the try starts and ends).
merge into {{ wh.database }}.{{ wh.audit }}.TASK_RUN_LOG t
using (
    select
        %(dag_id)s as dag_id,
        %(task_id)s as task_id,
        %(run_id)s as run_id,
        %(map_index)s::number as map_index,
        %(try_number)s::number as try_number,
        %(business_date)s::date as business_date,
        %(state)s as state,
        %(max_tries)s::number as max_tries,
        %(started_at)s::timestamp_ntz as started_at,
        %(ended_at)s::timestamp_ntz as ended_at,
        %(duration_s)s::number(12, 3) as duration_s,
        %(rows_affected)s::number as rows_affected,
        %(query_ids)s as query_ids,
        %(error_class)s as error_class,
        %(error_message)s as error_message,
        %(hostname)s as hostname,
        %(operator)s as operator,
        %(reported_by)s as reported_by
) s
on t.dag_id = s.dag_id and t.task_id = s.task_id and t.run_id = s.run_id and t.map_index = s.map_index
   and t.try_number = s.try_number
when matched then update set
    state = s.state,
    business_date = coalesce(s.business_date, t.business_date),
    max_tries = coalesce(s.max_tries, t.max_tries),
    started_at = coalesce(s.started_at, t.started_at),
    ended_at = coalesce(s.ended_at, t.ended_at),
    duration_s = coalesce(s.duration_s, t.duration_s),
    rows_affected = coalesce(s.rows_affected, t.rows_affected),
    query_ids = coalesce(s.query_ids, t.query_ids),
    error_class = coalesce(s.error_class, t.error_class),
    error_message = coalesce(s.error_message, t.error_message),
    hostname = coalesce(s.hostname, t.hostname),
    operator = coalesce(s.operator, t.operator),
    reported_by = s.reported_by,
    logged_at = current_timestamp()
when not matched then insert
    (dag_id, task_id, run_id, map_index, try_number, business_date, state, max_tries, started_at,
     ended_at, duration_s, rows_affected, query_ids, error_class, error_message, hostname, operator,
     reported_by)
values
    (s.dag_id, s.task_id, s.run_id, s.map_index, s.try_number, s.business_date, s.state, s.max_tries,
     s.started_at, s.ended_at, s.duration_s, s.rows_affected, s.query_ids, s.error_class,
     s.error_message, s.hostname, s.operator, s.reported_by)
