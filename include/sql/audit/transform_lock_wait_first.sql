insert into {{ ref('audit.TRANSFORM_LOCK_WAITERS') }} (run_id, business_date, waiting_since, last_look_at)
select %(run_id)s, %(business_date)s::date, current_timestamp()::timestamp_ntz, current_timestamp()::timestamp_ntz
