-- Upsert the run-log row of one DAG run; each time it ends failed is counted. Safe to repeat.
merge into {{ ref('audit.DAG_RUN_LOG') }} as t
using (
    select
        %(dag_id)s as dag_id,
        %(run_id)s as run_id,
        %(business_date)s::date as business_date,
        %(run_type)s as run_type,
        %(state)s as state,
        %(started_at)s::timestamp_ntz as started_at,
        %(ended_at)s::timestamp_ntz as ended_at,
        %(duration_s)s::number(12, 3) as duration_s,
        %(message)s as message,
        %(reported_by)s as reported_by
) as s
on t.dag_id = s.dag_id and t.run_id = s.run_id
when matched then update set
    state = s.state,
    business_date = coalesce(s.business_date, t.business_date),
    run_type = coalesce(s.run_type, t.run_type),
    started_at = coalesce(s.started_at, t.started_at),
    ended_at = s.ended_at,
    duration_s = s.duration_s,
    -- the same failed ending written again (a retry whose first answer was lost) counts once
    times_failed = t.times_failed + iff(
        s.state = 'failed' and not (t.state = 'failed' and t.ended_at is not distinct from s.ended_at), 1, 0
    ),
    last_failed_at = iff(
        s.state = 'failed' and not (t.state = 'failed' and t.ended_at is not distinct from s.ended_at),
        current_timestamp(),
        t.last_failed_at
    ),
    message = s.message,
    reported_by = s.reported_by,
    logged_at = current_timestamp()
when not matched then insert
    (dag_id, run_id, business_date, run_type, state, started_at, ended_at, duration_s, times_failed,
     last_failed_at, message, reported_by)
values
    (s.dag_id, s.run_id, s.business_date, s.run_type, s.state, s.started_at, s.ended_at, s.duration_s,
     iff(s.state = 'failed', 1, 0), iff(s.state = 'failed', current_timestamp(), null), s.message,
     s.reported_by)
