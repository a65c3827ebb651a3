-- The holdout ROC AUC a model was promoted with: the yardstick for its realised AUC.
select value
from {{ ref('ml.MODEL_METRICS') }}
where model_id = %(model_id)s and split = 'holdout' and metric = 'roc_auc'
order by business_date desc
limit 1
