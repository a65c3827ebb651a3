-- The model promoted last by a run of the business date or an earlier one.
select model_id, model_name, business_date, artifact_uri
from {{ ref('ml.MODEL_REGISTRY') }}
where status = 'champion' and business_date <= %(business_date)s::date
order by business_date desc, created_at desc
limit 1
