-- MODEL checks. Orphans are checked for the rows delivered on the run's business date, so a bad
-- delivery fails its own date (and a re-run after the fix passes) without failing later dates.
--   orphan_* (critical): order lines without an order, orders without a customer, store sales
--     without a store; unknown products and payments without an order are warnings.
--   scd2_* / fact keys (critical): one current version per customer, valid_from < valid_to,
--     unique fact keys, every customer changed in the window has a current version.
{%- set s = wh.database ~ '.' ~ wh.silver -%}
{%- set m = wh.database ~ '.' ~ wh.model -%}
{%- set bd = "'" ~ window.end ~ "'::date" %}
{% set orphans = [
    ('orphan_order_items', 'ORDER_ITEMS', 'order_id', 'ORDERS', 'order_id', 'critical'),
    ('orphan_orders', 'ORDERS', 'customer_id', 'CUSTOMERS', 'customer_id', 'critical'),
    ('orphan_store_sales', 'STORE_SALES', 'store_id', 'STORES', 'store_id', 'critical'),
    ('unknown_product', 'ORDER_ITEMS', 'product_id', 'PRODUCTS', 'product_id', 'warning'),
    ('unknown_product', 'STORE_SALES', 'product_id', 'PRODUCTS', 'product_id', 'warning'),
    ('orphan_payments', 'PAYMENTS', 'order_id', 'ORDERS', 'order_id', 'warning'),
    ('unknown_loyalty_customer', 'STORE_SALES', 'customer_id', 'CUSTOMERS', 'customer_id', 'warning'),
] %}
{% for name, child, fk, parent, pk, severity in orphans %}
select
    '{{ name }}' as check_name, 'SILVER.{{ child }}' as table_name, {{ bd }} as business_date,
    count(*) as observed, 0 as threshold, count(*) = 0 as passed, '{{ severity }}' as severity,
    count(*) || ' rows of this date reference a missing {{ parent | lower }}.{{ pk }}'
        || coalesce(', e.g. ' || min(c.{{ fk }}), '') as detail
from {{ s }}.{{ child }} as c
left join {{ s }}.{{ parent }} as p on p.{{ pk }} = c.{{ fk }}
where c._batch_date = {{ bd }} and c.{{ fk }} is not null and p.{{ pk }} is null
union all
{% endfor %}
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
union all
select
    'key_unique', 'MODEL.FCT_ORDERS', {{ bd }}, count(*) - count(distinct order_id), 0,
    count(*) = count(distinct order_id), 'critical', count(*) || ' rows'
from {{ m }}.FCT_ORDERS
union all
select
    'key_unique', 'MODEL.FCT_ORDER_ITEMS', {{ bd }}, count(*) - count(distinct order_id || '|' || line_number), 0,
    count(*) = count(distinct order_id || '|' || line_number), 'critical', count(*) || ' rows'
from {{ m }}.FCT_ORDER_ITEMS
