-- A try whose run-log row still says "running" after its DAG run ended: its final write was lost
-- (the warehouse was down when the try ended, or its process was killed). The state, end and
-- duration Airflow recorded replace it; a row the try finished itself is left as it is.
update {{ wh.database }}.{{ wh.audit }}.TASK_RUN_LOG
set
    state = %(state)s,
    business_date = coalesce(business_date, %(business_date)s::date),
    max_tries = coalesce(max_tries, %(max_tries)s::number),
    started_at = coalesce(started_at, %(started_at)s::timestamp_ntz),
    ended_at = coalesce(%(ended_at)s::timestamp_ntz, ended_at),
    duration_s = coalesce(%(duration_s)s::number(12, 3), duration_s),
    rows_affected = coalesce(rows_affected, %(rows_affected)s::number),
    query_ids = coalesce(query_ids, %(query_ids)s),
    error_class = coalesce(error_class, %(error_class)s),
    error_message = coalesce(error_message, %(error_message)s),
    hostname = coalesce(hostname, %(hostname)s),
    operator = coalesce(operator, %(operator)s),
    reported_by = %(reported_by)s,
    logged_at = current_timestamp()
where dag_id = %(dag_id)s and task_id = %(task_id)s and run_id = %(run_id)s
    and map_index = %(map_index)s::number and try_number = %(try_number)s::number
    and state = 'running'
