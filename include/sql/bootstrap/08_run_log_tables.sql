-- Audit run-log: one row per task try and one per DAG run, written by the listener in
-- plugins/retail_audit_listener.py (no DAG author has to remember it). Plus the recovery notices.
create table if not exists {{ ref('audit.TASK_RUN_LOG') }} (
    dag_id varchar not null,
    task_id varchar not null,
    run_id varchar not null,
    map_index number not null,
    try_number number not null,
    business_date date,
    state varchar not null,            -- running | success | up_for_retry | failed | skipped
    max_tries number,
    started_at timestamp_ntz,
    ended_at timestamp_ntz,
    duration_s number(12, 3),
    rows_affected number,              -- rows the task reports (COPY, MERGE, checks), when it knows
    query_ids varchar,                 -- Snowflake query ids, comma separated
    error_class varchar,
    error_message varchar,
    hostname varchar,
    operator varchar,
    reported_by varchar,               -- worker | scheduler | api (a state set from the UI)
    logged_at timestamp_ntz default current_timestamp()
);

create table if not exists {{ ref('audit.DAG_RUN_LOG') }} (
    dag_id varchar not null,
    run_id varchar not null,
    business_date date,
    run_type varchar,                  -- scheduled | backfill | manual | asset_triggered
    state varchar not null,            -- running | success | failed
    started_at timestamp_ntz,
    ended_at timestamp_ntz,
    duration_s number(12, 3),
    times_failed number default 0,     -- how often this run ended failed (a cleared run can fail again)
    last_failed_at timestamp_ntz,
    message varchar,
    reported_by varchar,
    logged_at timestamp_ntz default current_timestamp()
);

create table if not exists {{ ref('audit.RECOVERY_NOTICES') }} (
    dag_id varchar not null,
    business_date date not null,
    run_id varchar not null,
    failed_tasks varchar,              -- the failures this notice closes
    notified_at timestamp_ntz default current_timestamp()
);

-- The latest run of every DAG (by start), with what it did.
create or replace view {{ ref('audit.V_LATEST_DAG_RUN') }} as
select dag_id, run_id, business_date, run_type, state, started_at, ended_at, duration_s, times_failed,
       message, logged_at
from {{ ref('audit.DAG_RUN_LOG') }}
qualify row_number() over (partition by dag_id order by started_at desc nulls last, logged_at desc) = 1;

-- Per DAG and business date: the latest run that succeeded (a date can be re-run many times).
create or replace view {{ ref('audit.V_LATEST_SUCCESSFUL_RUN') }} as
select dag_id, business_date, run_id, run_type, started_at, ended_at, duration_s
from {{ ref('audit.DAG_RUN_LOG') }}
where state = 'success' and business_date is not null
qualify row_number() over (partition by dag_id, business_date order by ended_at desc nulls last) = 1;

-- One row per alert and channel: sent, or lost after its retries (the mail relay was down). A lost
-- alert is also in the task log whole; this is where on-call finds what never reached them.
create table if not exists {{ ref('audit.ALERT_LOG') }} (
    dag_id varchar,
    task_id varchar,                      -- null for a run-level alert (recovery, deadline)
    run_id varchar,
    subject varchar not null,
    channel varchar not null,             -- the notifier: SmtpNotifier, SnsNotifier, SlackWebhookNotifier
    status varchar not null,              -- sent | lost
    tries number not null,
    error_message varchar,
    hostname varchar,
    logged_at timestamp_ntz default current_timestamp()
);

-- Alerts that never reached on-call, last 7 days.
create or replace view {{ ref('audit.V_ALERTS_LOST_7D') }} as
select dag_id, task_id, run_id, subject, channel, tries, error_message, hostname, logged_at
from {{ ref('audit.ALERT_LOG') }}
where status = 'lost' and logged_at >= dateadd(day, -7, sysdate());

-- Every failed try (retried or final) of the last 7 days.
create or replace view {{ ref('audit.V_TASK_FAILURES_7D') }} as
select dag_id, task_id, run_id, business_date, try_number, max_tries, state, ended_at, error_class,
       error_message, hostname
from {{ ref('audit.TASK_RUN_LOG') }}
where state in ('failed', 'up_for_retry')
  and coalesce(ended_at, logged_at) >= dateadd(day, -7, sysdate());

-- Task durations over the last 30 days, slowest median first.
create or replace view {{ ref('audit.V_SLOWEST_TASKS') }} as
select dag_id, task_id, count(*) as tries, median(duration_s) as median_s, max(duration_s) as max_s,
       max(ended_at) as last_ended_at
from {{ ref('audit.TASK_RUN_LOG') }}
where state = 'success' and duration_s is not null
  and ended_at >= dateadd(day, -30, sysdate())
group by dag_id, task_id
order by median_s desc;

-- Per feed: the newest business date loaded, when, and how far behind today it is.
create or replace view {{ ref('audit.V_FEED_FRESHNESS') }} as
with loaded as (
    select feed, max(batch_date) as latest_batch_date, max(last_seen_at) as last_loaded_at
    from {{ ref('audit.FILE_LOADS') }}
    where status = 'LOADED'
    group by feed
),
quarantined as (
    select feed, max(batch_date) as latest_quarantined_date
    from {{ ref('audit.FILE_LOADS') }}
    where status = 'QUARANTINED'
    group by feed
)
select
    loaded.feed,
    loaded.latest_batch_date,
    loaded.last_loaded_at,
    datediff(day, loaded.latest_batch_date, sysdate()::date) as days_behind,  -- UTC's today, whoever reads
    quarantined.latest_quarantined_date
from loaded
left join quarantined on quarantined.feed = loaded.feed;
