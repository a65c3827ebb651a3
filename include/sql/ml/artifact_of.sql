-- Where a model's file is.
select artifact_uri
from {{ wh.database }}.{{ wh.ml }}.MODEL_REGISTRY
where model_id = %(model_id)s
limit 1
