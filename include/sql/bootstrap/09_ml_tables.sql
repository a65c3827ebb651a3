-- Churn model: every trained candidate, its metrics, and the champion's scores per business date.
-- Rows are written per business date (delete + COPY in one transaction), so re-running a date
-- replaces its rows. The rows arrive as a CSV file PUT into this internal stage and COPied in
-- (include/ml/registry.py, replace_date_rows); the COPY purges the file.
create stage if not exists {{ ref('ml.' ~ wh.ml_stage) }};

create table if not exists {{ ref('ml.MODEL_REGISTRY') }} (
    model_id varchar not null,           -- churn_<business date>_<candidate>_<hash of data, code, libraries, params>
    model_name varchar not null,         -- the candidate: logreg_calibrated | hist_gbt_calibrated
    version varchar not null,            -- the business date it was trained for, YYYYMMDD
    business_date date not null,
    params varchar,                      -- JSON
    features varchar,                    -- JSON list
    train_from date,                     -- first and last training cut-off
    train_to date,
    holdout_cutoff date,
    label_horizon_days number,
    train_rows number,
    holdout_rows number,
    status varchar not null,             -- champion (promoted by this run) | challenger (not promoted)
    decision_reason varchar,
    artifact_uri varchar,
    report_uri varchar,
    run_id varchar,
    created_at timestamp_ntz default current_timestamp(),
    -- provenance (include/ml/provenance.py), declared after the first release (include/migrations.py
    -- adds them to an older warehouse): who is trained on and scored, the orders history the run
    -- could see, cut-offs whose label window had an undelivered day (JSON), sha256 of the training
    -- examples, the commit, the library versions (JSON: scikit-learn, numpy, scipy, pandas,
    -- joblib, python), sha256 of model.joblib
    population varchar,
    data_from date,
    data_to date,
    skipped_cutoffs varchar,
    data_fingerprint varchar,
    code_version varchar,
    library_versions varchar,
    artifact_sha256 varchar
);

create table if not exists {{ ref('ml.MODEL_METRICS') }} (
    model_id varchar not null,
    business_date date not null,
    split varchar not null,              -- cv_<cut-off> | cv_mean | holdout | holdout_champion_before
    metric varchar not null,             -- roc_auc | pr_auc | brier | log_loss | ece | lift_decile_1 | capture_decile_1 ...
    value float,
    created_at timestamp_ntz default current_timestamp()
);

create table if not exists {{ ref('ml.CUSTOMER_CHURN_SCORE') }} (
    customer_id varchar not null,
    business_date date not null,
    churn_score float not null,          -- calibrated probability of no online order in the horizon
    decile number not null,              -- 1 = the tenth most likely to churn
    model_id varchar not null,
    features_as_of date,
    scored_at timestamp_ntz default current_timestamp(),
    -- why: up to three features that raise the customer's score most against a typical customer
    -- (include/ml/score.py), e.g. "recency_days +0.21; purchases_90d +0.08"
    top_reasons varchar
);

-- The exact inputs of every score: the features each scored customer had on the date, so any past
-- score can be recomputed with the model file (tests/unit/test_churn_model.py does).
create table if not exists {{ ref('ml.CUSTOMER_FEATURE_SNAPSHOT') }} (
    customer_id varchar not null,
    business_date date not null,
    model_id varchar not null,
    tenure_days float,
    purchases_total float,
    online_orders_total float,
    store_visits_total float,
    purchases_90d float,
    purchases_prev_90d float,
    frequency_trend float,
    spend_total float,
    spend_90d float,
    avg_order_value float,
    recency_days float,
    online_share float,
    cancel_return_share float,
    card_share float,
    paypal_share float,
    gift_card_share float,
    bank_transfer_share float,
    segment varchar,
    snapshot_at timestamp_ntz default current_timestamp()
);

-- Daily monitoring of the champion (include/ml/monitoring.py, docs/ml.md "Monitoring"): population
-- stability of each feature and of the score against the model's holdout, and, once labels have
-- matured, the realised quality of the scores of the date one horizon earlier.
create table if not exists {{ ref('ml.MODEL_MONITORING') }} (
    business_date date not null,          -- the run that measured it
    model_id varchar not null,
    measure varchar not null,             -- psi | realised_roc_auc | realised_ece | realised_base_rate | realised_rows
    subject varchar not null,             -- a feature, churn_score, or the scoring date for realised_*
    value float,
    threshold float,
    status varchar not null,              -- ok | alert | info
    created_at timestamp_ntz default current_timestamp()
);

-- The champion: the latest model a run promoted.
create or replace view {{ ref('ml.V_CHAMPION') }} as
select model_id, model_name, version, business_date, params, features, train_from, train_to,
       holdout_cutoff, artifact_uri, report_uri, decision_reason, created_at
from {{ ref('ml.MODEL_REGISTRY') }}
where status = 'champion'
qualify row_number() over (order by business_date desc, created_at desc) = 1;

-- Metrics of the latest training run (every candidate).
create or replace view {{ ref('ml.V_LATEST_MODEL_METRICS') }} as
select m.model_id, r.model_name, r.status, m.business_date, m.split, m.metric, m.value
from {{ ref('ml.MODEL_METRICS') }} as m
inner join {{ ref('ml.MODEL_REGISTRY') }} as r on r.model_id = m.model_id
where m.business_date = (select max(latest.business_date) from {{ ref('ml.MODEL_REGISTRY') }} as latest);

-- The latest scores of every customer.
create or replace view {{ ref('ml.V_LATEST_CHURN_SCORE') }} as
select customer_id, business_date, churn_score, decile, model_id, features_as_of, top_reasons, scored_at
from {{ ref('ml.CUSTOMER_CHURN_SCORE') }}
where business_date = (select max(latest.business_date) from {{ ref('ml.CUSTOMER_CHURN_SCORE') }} as latest);

-- The model's state in one row, for the Control Tower page: the champion, the latest training
-- (whichever candidate it promoted or not) and the latest monitoring measurement.
create or replace view {{ ref('ml.V_MODEL_STATUS') }} as
with champion as (
    select model_id, business_date, created_at from {{ ref('ml.V_CHAMPION') }}
),

training as (
    select business_date, max(created_at) as trained_at, count(*) as candidates,
           max(iff(status = 'champion', model_id, null)) as promoted_model_id
    from {{ ref('ml.MODEL_REGISTRY') }}
    where business_date = (select max(latest.business_date) from {{ ref('ml.MODEL_REGISTRY') }} as latest)
    group by business_date
),

monitoring as (
    select business_date, count(*) as measures, count_if(status = 'alert') as alerts
    from {{ ref('ml.MODEL_MONITORING') }}
    where business_date = (select max(latest.business_date) from {{ ref('ml.MODEL_MONITORING') }} as latest)
    group by business_date
)

select
    (select model_id from champion) as champion_model_id,
    (select business_date from champion) as champion_trained_for,
    (select business_date from training) as last_training_date,
    (select trained_at from training) as last_trained_at,
    (select candidates from training) as last_training_candidates,
    (select promoted_model_id from training) as last_training_promoted,
    (select business_date from monitoring) as last_monitoring_date,
    (select measures from monitoring) as last_monitoring_measures,
    (select alerts from monitoring) as last_monitoring_alerts;
