-- MODEL.DIM_CUSTOMER (SCD2): the versions of every customer whose records came in the run's change
-- set are rebuilt from all of that customer's records in SILVER.CUSTOMER_VERSIONS. A new version
-- starts only when a tracked attribute (email, segment, city, state, zip_code) changes; name
-- corrections do not open one. Rebuilding per customer from the full history (instead of closing
-- and opening rows incrementally) makes the result independent of the order dates are processed in.
-- The rebuilt customers are noted for GOLD's customer tables (MODEL.PENDING_CUSTOMERS).
{% from '_changes.sql' import changed_batches %}
begin;

insert into {{ ref('model.PENDING_CUSTOMERS') }} (customer_id)
select distinct customer_id
from {{ ref('silver.CUSTOMER_VERSIONS') }}
where _batch_date in {{ changed_batches('customers') }};

delete from {{ ref('model.DIM_CUSTOMER') }}
where customer_id in (
    select customer_id
    from {{ ref('silver.CUSTOMER_VERSIONS') }}
    where _batch_date in {{ changed_batches('customers') }}
);

insert into {{ ref('model.DIM_CUSTOMER') }} (
    customer_key, customer_id, first_name, last_name, email, segment, city, state, zip_code,
    signup_date, valid_from, valid_to, is_current
)
with touched as (
    select distinct customer_id
    from {{ ref('silver.CUSTOMER_VERSIONS') }}
    where _batch_date in {{ changed_batches('customers') }}
),

records as (
    select
        v.customer_id, v.first_name, v.last_name, v.email, v.segment, v.city, v.state, v.zip_code,
        v.signup_date, v.updated_at,
        concat_ws('|', coalesce(v.email, ''), coalesce(v.segment, ''), coalesce(v.city, ''),
            coalesce(v.state, ''), coalesce(v.zip_code, '')) as tracked
    from {{ ref('silver.CUSTOMER_VERSIONS') }} as v
    inner join touched as t on t.customer_id = v.customer_id
),

changes as (
    select
        records.*,
        lag(tracked) over (partition by customer_id order by updated_at) as previous_tracked
    from records
),

versions as (
    select
        customer_id, first_name, last_name, email, segment, city, state, zip_code, signup_date,
        updated_at as valid_from,
        lead(updated_at) over (partition by customer_id order by updated_at) as next_valid_from
    from changes
    where previous_tracked is null or previous_tracked <> tracked
)

select
    md5(customer_id || '|' || to_varchar(valid_from, 'YYYY-MM-DD HH24:MI:SS')) as customer_key,
    customer_id, first_name, last_name, email, segment, city, state, zip_code, signup_date,
    valid_from,
    coalesce(next_valid_from, '9999-12-31 00:00:00'::timestamp_ntz) as valid_to,
    next_valid_from is null as is_current
from versions;

commit;
