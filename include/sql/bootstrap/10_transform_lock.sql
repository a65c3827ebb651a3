-- The transform lock: one run at a time merges SILVER, builds MODEL and builds, checks and
-- publishes GOLD (see docs/architecture.md, "Concurrency"). One row; holder_run_id is null when
-- free. A holder whose lease expired (its run was killed and never cleared) can be taken over.
create table if not exists {{ ref('audit.TRANSFORM_LOCK') }} (
    lock_name varchar not null,
    holder_run_id varchar,
    holder_business_date date,
    acquired_at timestamp_ntz,
    expires_at timestamp_ntz
);

insert into {{ ref('audit.TRANSFORM_LOCK') }} (lock_name)
select 'retail_transform'
where not exists (
    select 1 from {{ ref('audit.TRANSFORM_LOCK') }} where lock_name = 'retail_transform'
);

-- Runs waiting for the lock, so it goes to the one that has waited longest (a run that stopped
-- waiting drops out once its last look is older than the staleness limit in the acquire SQL).
create table if not exists {{ ref('audit.TRANSFORM_LOCK_WAITERS') }} (
    run_id varchar not null,
    business_date date,
    waiting_since timestamp_ntz not null,
    last_look_at timestamp_ntz not null
);
