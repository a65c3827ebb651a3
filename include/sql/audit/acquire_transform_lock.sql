-- Take the transform lock for a run if it is free (or already this run's, or its lease expired)
-- and no run still waiting has waited longer. One UPDATE: Snowflake serialises concurrent
-- updates of the row, so at most one run wins.
{%- set waiters = ref('audit.TRANSFORM_LOCK_WAITERS') %}
update {{ ref('audit.TRANSFORM_LOCK') }}
set holder_run_id = %(run_id)s,
    holder_business_date = %(business_date)s::date,
    acquired_at = current_timestamp()::timestamp_ntz,
    expires_at = dateadd(minute, %(lease_minutes)s, current_timestamp()::timestamp_ntz)
where lock_name = 'retail_transform'
    and (holder_run_id is null or holder_run_id = %(run_id)s or expires_at < current_timestamp()::timestamp_ntz)
    and not exists (
        select 1
        from {{ waiters }} as w
        where w.run_id <> %(run_id)s
            and w.last_look_at > dateadd(second, -%(stale_seconds)s, current_timestamp()::timestamp_ntz)
            and w.waiting_since < coalesce(
                (select min(me.waiting_since) from {{ waiters }} as me where me.run_id = %(run_id)s),
                current_timestamp()::timestamp_ntz
            )
    )
