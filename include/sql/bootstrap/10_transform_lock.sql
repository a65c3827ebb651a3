-- The transform lock: one run at a time merges SILVER, builds MODEL and builds, checks and
-- publishes GOLD (see docs/architecture.md, "Concurrency"). One row; holder_run_id is null when
-- free. A holder whose lease expired (its run was killed and never cleared) can be taken over.
create table if not exists {{ wh.database }}.{{ wh.audit }}.TRANSFORM_LOCK (
    lock_name varchar not null,
    holder_run_id varchar,
    holder_business_date date,
    acquired_at timestamp_ntz,
    expires_at timestamp_ntz
);

insert into {{ wh.database }}.{{ wh.audit }}.TRANSFORM_LOCK (lock_name)
select 'retail_transform'
where not exists (
    select 1 from {{ wh.database }}.{{ wh.audit }}.TRANSFORM_LOCK where lock_name = 'retail_transform'
);
