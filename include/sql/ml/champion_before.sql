-- The champion a training run must beat: promoted by a run of an earlier business date.
select model_id, model_name, business_date, artifact_uri
from {{ ref('ml.MODEL_REGISTRY') }}
where status = 'champion' and business_date < %(business_date)s::date
order by business_date desc, created_at desc
limit 1
