-- A run holds the lock (or gave up): it no longer waits; waiters silent for a day are dropped.
delete from {{ ref('audit.TRANSFORM_LOCK_WAITERS') }}
where run_id = %(run_id)s or last_look_at < dateadd(day, -1, current_timestamp()::timestamp_ntz)
