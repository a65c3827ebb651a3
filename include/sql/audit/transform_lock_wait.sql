-- A run looks for the transform lock: note that it is waiting (first time) or still waiting.
update {{ ref('audit.TRANSFORM_LOCK_WAITERS') }}
set last_look_at = current_timestamp()::timestamp_ntz
where run_id = %(run_id)s
