-- Every data-quality check result, one row per check, table and business date per run.
create table if not exists {{ ref('audit.DQ_RESULTS') }} (
    run_id varchar not null,
    layer varchar not null,            -- silver | model | gold
    check_name varchar not null,
    table_name varchar not null,
    business_date date not null,       -- the date the checked rows belong to
    observed number(38, 4),
    threshold number(38, 4),
    passed boolean not null,
    severity varchar not null,         -- critical (stops the run) | warning (recorded, reported)
    detail varchar,
    run_business_date date not null,   -- the business date of the run that checked
    checked_at timestamp_ntz default current_timestamp(),
    task_id varchar                    -- the check task that recorded it
);

create or replace view {{ ref('audit.V_DQ_LATEST') }} as
select run_id, layer, task_id, check_name, table_name, business_date, observed, threshold, passed, severity,
       detail, run_business_date, checked_at
from {{ ref('audit.DQ_RESULTS') }}
qualify row_number() over (
    partition by layer, check_name, table_name, business_date order by checked_at desc
) = 1;

create or replace view {{ ref('audit.V_DQ_FAILURES') }} as
select run_id, layer, task_id, check_name, table_name, business_date, observed, threshold, severity, detail,
       run_business_date, checked_at
from {{ ref('audit.V_DQ_LATEST') }}
where not passed;
