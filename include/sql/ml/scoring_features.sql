-- Features of the scoring population as of the business date being scored (GOLD's definitions):
-- active customers, the same filter training uses (docs/ml.md, "Population").
{% from 'gold/_customer_features.sql' import customer_features %}
with features as (
    {{ customer_features("'" ~ as_of.isoformat() ~ "'::date") }}
)

select f.*
from features as f
where f.recency_days <= {{ active_days }}
