-- Where a model's file is.
select artifact_uri
from {{ ref('ml.MODEL_REGISTRY') }}
where model_id = %(model_id)s
limit 1
