-- MODEL check orphans, for the rows delivered on the run's business date, so a bad delivery fails
-- its own date (and a re-run after the fix passes) without failing every later date:
--   critical: order lines without an order, orders without a customer, store sales without a store;
--   warning: unknown products, payments without an order, unknown loyalty customers.
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
from {{ ref('silver.' ~ child) }} as c
left join {{ ref('silver.' ~ parent) }} as p on p.{{ pk }} = c.{{ fk }}
where c._batch_date = {{ bd }} and c.{{ fk }} is not null and p.{{ pk }} is null
{{ 'union all' if not loop.last }}
{% endfor %}
