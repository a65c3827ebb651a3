-- Take the transform lock for a run if it is free, already this run's, or its lease expired.
-- One UPDATE: Snowflake serialises concurrent updates of the row, so at most one run wins.
update {{ wh.database }}.{{ wh.audit }}.TRANSFORM_LOCK
set holder_run_id = %(run_id)s,
    holder_business_date = %(business_date)s::date,
    acquired_at = current_timestamp()::timestamp_ntz,
    expires_at = dateadd(minute, %(lease_minutes)s, current_timestamp()::timestamp_ntz)
where lock_name = 'retail_transform'
    and (holder_run_id is null or holder_run_id = %(run_id)s or expires_at < current_timestamp()::timestamp_ntz)
