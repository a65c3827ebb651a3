-- Features of the scoring population as of the business date being scored (GOLD's definitions):
-- active customers, the same filter training uses (docs/ml.md, "Population").
-- from_gold: the published GOLD.CUSTOMER_FEATURES, when its as-of date is the date scored (a daily
-- run, after its publication): kept up to date from the customer aggregates, so a day's cost does
-- not grow with the history. Otherwise (a backfill of an older date: GOLD is as of a later one)
-- the same definitions from the facts (gold/_customer_features.sql); both give the same rows
-- (tests/unit/test_customer_activity.py, tests/unit/test_churn_features.py).
{% if from_gold %}
select {{ columns('gold.CUSTOMER_FEATURES') }}
from {{ ref('gold.CUSTOMER_FEATURES') }}
where as_of_date = '{{ as_of.isoformat() }}'::date
    and recency_days <= {{ active_days }}
{% else %}
{% from 'gold/_customer_features.sql' import customer_features %}
with features as (
    {{ customer_features("'" ~ as_of.isoformat() ~ "'::date") }}
)

select f.*
from features as f
where f.recency_days <= {{ active_days }}
{% endif %}
