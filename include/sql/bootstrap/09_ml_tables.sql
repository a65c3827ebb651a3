-- Churn model: every trained candidate, its metrics, and the champion's scores per business date.
-- Rows are written per business date (delete + insert in one transaction), so re-running a date
-- replaces its rows.
create table if not exists {{ wh.database }}.{{ wh.ml }}.MODEL_REGISTRY (
    model_id varchar not null,           -- churn_<business date>_<candidate>
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
    created_at timestamp_ntz default current_timestamp()
);

create table if not exists {{ wh.database }}.{{ wh.ml }}.MODEL_METRICS (
    model_id varchar not null,
    business_date date not null,
    split varchar not null,              -- cv_<cut-off> | cv_mean | holdout | holdout_champion_before
    metric varchar not null,             -- roc_auc | pr_auc | brier | log_loss | ece | lift_decile_1 | capture_decile_1 ...
    value float,
    created_at timestamp_ntz default current_timestamp()
);

create table if not exists {{ wh.database }}.{{ wh.ml }}.CUSTOMER_CHURN_SCORE (
    customer_id varchar not null,
    business_date date not null,
    churn_score float not null,          -- calibrated probability of no online order in the horizon
    decile number not null,              -- 1 = the tenth most likely to churn
    model_id varchar not null,
    features_as_of date,
    scored_at timestamp_ntz default current_timestamp()
);

-- The champion: the latest model a run promoted.
create or replace view {{ wh.database }}.{{ wh.ml }}.V_CHAMPION as
select model_id, model_name, version, business_date, params, features, train_from, train_to,
       holdout_cutoff, artifact_uri, report_uri, decision_reason, created_at
from {{ wh.database }}.{{ wh.ml }}.MODEL_REGISTRY
where status = 'champion'
qualify row_number() over (order by business_date desc, created_at desc) = 1;

-- Metrics of the latest training run (every candidate).
create or replace view {{ wh.database }}.{{ wh.ml }}.V_LATEST_MODEL_METRICS as
select m.model_id, r.model_name, r.status, m.business_date, m.split, m.metric, m.value
from {{ wh.database }}.{{ wh.ml }}.MODEL_METRICS as m
inner join {{ wh.database }}.{{ wh.ml }}.MODEL_REGISTRY as r on r.model_id = m.model_id
where m.business_date = (select max(business_date) from {{ wh.database }}.{{ wh.ml }}.MODEL_REGISTRY);

-- The latest scores of every customer.
create or replace view {{ wh.database }}.{{ wh.ml }}.V_LATEST_CHURN_SCORE as
select customer_id, business_date, churn_score, decile, model_id, features_as_of, scored_at
from {{ wh.database }}.{{ wh.ml }}.CUSTOMER_CHURN_SCORE
where business_date = (select max(business_date) from {{ wh.database }}.{{ wh.ml }}.CUSTOMER_CHURN_SCORE);
