-- MODEL.FCT_ORDER_ITEMS: one row per order line with the order's placement attributes (customer,
-- channel, order date, shipping state), which never change after placement. Rebuilt for every
-- order whose order row or lines came in the run's change set; lines whose order has not arrived
-- stay out (reported as orphans). The order dates of the rebuilt lines, before and after, are
-- noted for GOLD (an order that moved changes both days).
{% from 'model/_touched_orders.sql' import touched_orders, within_touched %}
{% from 'model/_customer_activity.sql' import add_pending_dates %}
{%- macro note_dates() -%}
{% call add_pending_dates('fct_order_items') %}
    select order_date as revenue_date
    from {{ ref('model.FCT_ORDER_ITEMS') }}
    where {{ within_touched('order_id') }}
        and order_id in ({{ touched_orders() }})
{%- endcall %}
{%- endmacro %}
begin;

{{ note_dates() }};

delete from {{ ref('model.FCT_ORDER_ITEMS') }}
where {{ within_touched('order_id') }}
    and order_id in ({{ touched_orders() }});

insert into {{ ref('model.FCT_ORDER_ITEMS') }} (
    order_id, line_number, product_id, customer_id, channel, order_date, shipping_state,
    quantity, unit_price, discount_amount, net_amount
)
with touched as (
    {{ touched_orders() }}
)

select
    i.order_id, i.line_number, i.product_id, o.customer_id, o.channel,
    o.order_ts::date as order_date,
    o.shipping_state, i.quantity, i.unit_price, i.discount_amount,
    i.quantity * i.unit_price - i.discount_amount as net_amount
from {{ ref('silver.ORDER_ITEMS') }} as i
inner join touched as t on t.order_id = i.order_id
inner join {{ ref('silver.ORDERS') }} as o on o.order_id = i.order_id
where {{ within_touched('i.order_id', 'touched') }} and {{ within_touched('o.order_id', 'touched') }}
-- in the order of the clustering key (model.yml)
order by order_date;

{{ note_dates() }};

commit;
