select holder_run_id, holder_business_date, acquired_at, expires_at
from {{ wh.database }}.{{ wh.audit }}.TRANSFORM_LOCK
where lock_name = 'retail_transform'
