-- The customers whose GOLD rows the build replaces (GOLD_STAGE.CUSTOMER_CHANGES), and the as-of
-- date it derives them for (GOLD_STAGE.CUSTOMER_AS_OF: the latest sale date in MODEL). GOLD keeps
-- per customer only what does not move with the as-of date by itself (gold/customer_rfm.sql,
-- gold/customer_features.sql); a customer's row changes when
--   MODEL changed it      its SCD2 versions or activity aggregates (MODEL.PENDING_CUSTOMERS, noted
--                         by model/dim_customer.sql and model/customer_activity.sql until published)
--   the as-of date moved  from the published one (A0) to this one (A1), for a customer with
--                         activity between them (the purchases and payments dated after the as-of
--                         date are left out), 90 or 180 days before them (the 90-day windows), or
--                         a version boundary or signup between them (the version valid that day)
--   everything            the first publication, and a forced (full rebuild) change set
-- Recency, tenure and the RFM scores are derived when GOLD's views are read.
{% from 'gold/_purchases.sql' import data_as_of %}
delete from {{ ref('gold_stage.CUSTOMER_AS_OF') }};

insert into {{ ref('gold_stage.CUSTOMER_AS_OF') }} (as_of_date)
select {{ data_as_of() }};

delete from {{ ref('gold_stage.CUSTOMER_CHANGES') }};

insert into {{ ref('gold_stage.CUSTOMER_CHANGES') }} (customer_id)
with bounds as (
    select
        least(coalesce(p.as_of_date, n.as_of_date), n.as_of_date) as lo,
        greatest(coalesce(p.as_of_date, n.as_of_date), n.as_of_date) as hi,
        p.as_of_date is null or n.as_of_date is null or exists (
            select 1 from {{ ref('audit.TRANSFORM_CHANGES') }} where run_id = %(run_id)s and forced
        ) as whole
    from {{ ref('gold_stage.CUSTOMER_AS_OF') }} as n
    left join (
        select max(as_of_date) as as_of_date from {{ ref('gold.CUSTOMER_AS_OF') }}
    ) as p on true
)

select customer_id from {{ ref('model.PENDING_CUSTOMERS') }}
union
select d.customer_id
from {{ ref('model.CUSTOMER_ACTIVITY_DAILY') }} as d
inner join bounds as b on b.lo < b.hi
where d.activity_date between b.lo and b.hi
    or d.activity_date between dateadd(day, -90, b.lo) and dateadd(day, -90, b.hi)
    or d.activity_date between dateadd(day, -180, b.lo) and dateadd(day, -180, b.hi)
union
select c.customer_id
from {{ ref('model.DIM_CUSTOMER') }} as c
inner join bounds as b on b.lo < b.hi
where c.valid_from::date between b.lo and dateadd(day, 1, b.hi)
    or c.valid_to::date between b.lo and dateadd(day, 1, b.hi)
    or c.signup_date between b.lo and b.hi
union
select customer_id from {{ ref('model.CUSTOMER_ACTIVITY') }} where (select whole from bounds)
union
select customer_id from {{ ref('model.DIM_CUSTOMER') }} where (select whole from bounds)
union
select customer_id from {{ ref('gold.CUSTOMER_RFM_BASE') }} where (select whole from bounds)
union
select customer_id from {{ ref('gold.CUSTOMER_FEATURES_BASE') }} where (select whole from bounds)
