-- MODEL.FCT_ORDERS: one row per order in its current status, with its line totals. Rebuilt for
-- every order whose order row or lines came in the run's change set (lines may arrive after the
-- order). Lines without an order row stay out of the facts; the MODEL checks report them as
-- orphans. In the same transaction, the customer activity the rebuilt orders (and their
-- payments, which count for the order's customer) contributed before is subtracted and what they
-- contribute now is added (model/_customer_activity.sql).
{% from 'model/_touched_orders.sql' import touched_orders, within_touched %}
{% from 'model/_customer_activity.sql' import add_pending_activity, order_activity, payment_activity %}
{%- macro activity(sign) -%}
{% call add_pending_activity() %}
with touched as (
    {{ touched_orders() }}
),

orders as (
    select o.*
    from {{ ref('model.FCT_ORDERS') }} as o
    inner join touched as t on t.order_id = o.order_id
    where {{ within_touched('o.order_id', 'touched') }}
),

payments as (
    select y.payment_id, y.payment_method, y.amount, y.paid_date, o.customer_id
    from {{ ref('model.FCT_PAYMENTS') }} as y
    inner join orders as o on o.order_id = y.order_id
    where {{ within_touched('y.order_id', 'touched') }}
)

{{ order_activity('orders', sign) }}
union all
{{ payment_activity('payments', sign) }}
{%- endcall %}
{%- endmacro %}
begin;

{{ activity(-1) }};

delete from {{ ref('model.FCT_ORDERS') }}
where {{ within_touched('order_id') }}
    and order_id in ({{ touched_orders() }});

insert into {{ ref('model.FCT_ORDERS') }} (
    order_id, customer_id, channel, order_status, order_date, order_ts, status_updated_at,
    shipping_state, item_count, units, gross_amount, discount_amount, net_amount
)
with touched as (
    {{ touched_orders() }}
),

lines as (
    select
        i.order_id,
        count(*) as item_count,
        sum(i.quantity) as units,
        sum(i.quantity * i.unit_price) as gross_amount,
        sum(i.discount_amount) as discount_amount
    from {{ ref('silver.ORDER_ITEMS') }} as i
    inner join touched as t on t.order_id = i.order_id
    where {{ within_touched('i.order_id', 'touched') }}
    group by i.order_id
)

select
    o.order_id, o.customer_id, o.channel, o.order_status,
    o.order_ts::date as order_date,
    o.order_ts, o.status_updated_at, o.shipping_state,
    coalesce(l.item_count, 0) as item_count,
    coalesce(l.units, 0) as units,
    coalesce(l.gross_amount, 0) as gross_amount,
    coalesce(l.discount_amount, 0) as discount_amount,
    coalesce(l.gross_amount, 0) - coalesce(l.discount_amount, 0) as net_amount
from {{ ref('silver.ORDERS') }} as o
inner join touched as t on t.order_id = o.order_id
left join lines as l on l.order_id = o.order_id
where {{ within_touched('o.order_id', 'touched') }}
-- in the order of the clustering key (model.yml)
order by order_date;

{{ activity(1) }};

commit;
