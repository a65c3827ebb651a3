select holder_run_id, holder_business_date, acquired_at, expires_at
from {{ ref('audit.TRANSFORM_LOCK') }}
where lock_name = 'retail_transform'
