-- Give the transform lock back, if this run holds it (a no-op otherwise).
update {{ ref('audit.TRANSFORM_LOCK') }}
set holder_run_id = null, holder_business_date = null, acquired_at = null, expires_at = null
where lock_name = 'retail_transform' and holder_run_id = %(run_id)s
