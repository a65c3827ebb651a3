-- MODEL check scd2_* (critical), for the customers whose records came in the run's change set (the
-- only ones whose versions it rebuilt): one current version each, valid_from < valid_to, and a
-- current version for every one of them.
{% from '_changes.sql' import changed_batches %}
{%- set bd = "'" ~ window.end ~ "'::date" %}
{%- set rebuilt -%}
    select customer_id from {{ ref('silver.CUSTOMER_VERSIONS') }} where _batch_date in {{ changed_batches('customers') }}
{%- endset %}
select
    'scd2_one_current_version', 'MODEL.DIM_CUSTOMER', {{ bd }}, count(*), 0, count(*) = 0, 'critical',
    count(*) || ' customers without exactly one current version'
from (
    select customer_id
    from {{ ref('model.DIM_CUSTOMER') }}
    where customer_id in ({{ rebuilt }})
    group by customer_id
    having count_if(is_current) <> 1
)
union all
select
    'scd2_valid_range', 'MODEL.DIM_CUSTOMER', {{ bd }}, count(*), 0, count(*) = 0, 'critical',
    count(*) || ' versions with valid_from >= valid_to'
from {{ ref('model.DIM_CUSTOMER') }}
where valid_from >= valid_to and customer_id in ({{ rebuilt }})
union all
select
    'scd2_covers_window', 'MODEL.DIM_CUSTOMER', {{ bd }}, count(*), 0, count(*) = 0, 'critical',
    count(*) || ' customers changed in the run without a current version'
from {{ ref('silver.CUSTOMERS') }} as c
left join {{ ref('model.DIM_CUSTOMER') }} as d on d.customer_id = c.customer_id and d.is_current
where c._batch_date in {{ changed_batches('customers') }} and d.customer_id is null
