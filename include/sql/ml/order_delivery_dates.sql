-- Business dates with a loaded orders delivery: a churn label window is complete only when every
-- day inside it was delivered (a quarantined or missing orders file leaves a gap).
select distinct _batch_date as batch_date
from {{ ref('bronze.ORDERS') }}
where _batch_date between %(first)s::date and %(last)s::date
order by batch_date
