-- MODEL.DIM_CUSTOMER (SCD2): the versions of every customer whose records came in the run's change
-- set are derived again from all of that customer's records in SILVER.CUSTOMER_VERSIONS. A new
-- version starts only when a tracked attribute (email, segment, city, state, zip_code) changes;
-- name corrections do not open one. Deriving per customer from the full history (instead of
-- closing and opening rows incrementally) makes the result independent of the order dates are
-- processed in. Only the customers whose derived rows differ from DIM_CUSTOMER's are rewritten
-- (MODEL.CUSTOMER_VERSION_CHANGES, emptied by each run of this step) and noted for GOLD's customer
-- tables (MODEL.PENDING_CUSTOMERS): a record sent again unchanged rewrites nothing.
{% from '_changes.sql' import changed_batches %}
{%- set dim = ref('model.DIM_CUSTOMER') -%}
{%- set changes = ref('model.CUSTOMER_VERSION_CHANGES') -%}
{%- set dim_columns = columns('model.DIM_CUSTOMER').split(', ') -%}
begin;

delete from {{ changes }};

insert into {{ changes }} ({{ dim_columns | join(', ') }})
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
),

derived as (
    select
        md5(customer_id || '|' || to_varchar(valid_from, 'YYYY-MM-DD HH24:MI:SS')) as customer_key,
        customer_id, first_name, last_name, email, segment, city, state, zip_code, signup_date,
        valid_from,
        coalesce(next_valid_from, '9999-12-31 00:00:00'::timestamp_ntz) as valid_to,
        next_valid_from is null as is_current
    from versions
),

current_rows as (
    select {{ columns('model.DIM_CUSTOMER', 'd.') }}
    from {{ dim }} as d
    inner join touched as t on t.customer_id = d.customer_id
),

-- a row differs when it is new, gone or any of its columns differs; IS DISTINCT FROM takes two
-- nulls as equal (https://docs.snowflake.com/en/sql-reference/functions/is-distinct-from)
compared as (
    select
{%- for c in dim_columns %}
        d.{{ c }},
{%- endfor %}
        max(iff(
            d.customer_key is null or c.customer_key is null
{%- for col in dim_columns if col != 'customer_key' %}
            or d.{{ col }} is distinct from c.{{ col }}
{%- endfor %}, 1, 0
        )) over (partition by coalesce(d.customer_id, c.customer_id)) as customer_differs
    from derived as d
    full outer join current_rows as c on c.customer_key = d.customer_key
)

-- every touched customer has records, so a rewritten customer has derived rows
select {{ dim_columns | join(', ') }}
from compared
where customer_differs = 1 and customer_key is not null;

insert into {{ ref('model.PENDING_CUSTOMERS') }} (customer_id)
select distinct customer_id
from {{ changes }};

delete from {{ dim }}
where customer_id in (select customer_id from {{ changes }});

insert into {{ dim }} ({{ dim_columns | join(', ') }})
select {{ dim_columns | join(', ') }}
from {{ changes }};

commit;
