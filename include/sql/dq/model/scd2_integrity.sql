-- MODEL check scd2_* (critical): one current version per customer, valid_from < valid_to, and
-- every customer whose records arrived in the window has a current version.
{%- set s = wh.database ~ '.' ~ wh.silver -%}
{%- set m = wh.database ~ '.' ~ wh.model -%}
{%- set bd = "'" ~ window.end ~ "'::date" %}
select
    'scd2_one_current_version', 'MODEL.DIM_CUSTOMER', {{ bd }}, count(*), 0, count(*) = 0, 'critical',
    count(*) || ' customers without exactly one current version'
from (
    select customer_id from {{ m }}.DIM_CUSTOMER group by customer_id having count_if(is_current) <> 1
)
union all
select
    'scd2_valid_range', 'MODEL.DIM_CUSTOMER', {{ bd }}, count(*), 0, count(*) = 0, 'critical',
    count(*) || ' versions with valid_from >= valid_to'
from {{ m }}.DIM_CUSTOMER
where valid_from >= valid_to
union all
select
    'scd2_covers_window', 'MODEL.DIM_CUSTOMER', {{ bd }}, count(*), 0, count(*) = 0, 'critical',
    count(*) || ' customers changed in the window without a current version'
from {{ s }}.CUSTOMERS as c
left join {{ m }}.DIM_CUSTOMER as d on d.customer_id = c.customer_id and d.is_current
where c._batch_date between '{{ window.start }}' and '{{ window.end }}' and d.customer_id is null
