-- Control Tower, "churn model" panel: champion, last training, last monitoring (one row).
select champion_model_id, champion_trained_for, last_training_date, last_trained_at, last_training_candidates,
       last_training_promoted, last_monitoring_date, last_monitoring_measures, last_monitoring_alerts
from {{ ref('ml.V_MODEL_STATUS') }}
