-- MODEL.FCT_ORDER_ITEMS: one row per order line with the order's placement attributes (customer,
-- channel, order date, shipping state), which never change after placement. Derived for every
-- order whose order row or lines came in the run's change set; lines whose order has not arrived
-- stay out (reported as orphans). Only the lines whose row differs from the fact's are written
-- (MODEL.ORDER_LINE_CHANGES, emptied by each run of this step): a status update re-sends the
-- order row but changes none of its lines, so it rewrites no line and dirties no revenue date.
-- The order dates of the written lines, before and after, are noted for GOLD (an order that
-- moved changes both days). One transaction.
{% from 'model/_touched_orders.sql' import touched_orders, within_touched %}
{% from 'model/_customer_activity.sql' import add_pending_dates %}
{% from '_changes.sql' import within %}
{%- set fact = ref('model.FCT_ORDER_ITEMS') -%}
{%- set changes = ref('model.ORDER_LINE_CHANGES') -%}
{%- set fact_columns = columns('model.FCT_ORDER_ITEMS').split(', ') -%}
{%- set changed_orders = 'select order_id from ' ~ changes -%}
begin;

delete from {{ changes }};

insert into {{ changes }} ({{ fact_columns | join(', ') }}, previous_order_date, removed)
with touched as (
    {{ touched_orders() }}
),

derived as (
    select
        i.order_id, i.line_number, i.product_id, o.customer_id, o.channel,
        o.order_ts::date as order_date,
        o.shipping_state, i.quantity, i.unit_price, i.discount_amount,
        i.quantity * i.unit_price - i.discount_amount as net_amount
    from {{ ref('silver.ORDER_ITEMS') }} as i
    inner join touched as t on t.order_id = i.order_id
    inner join {{ ref('silver.ORDERS') }} as o on o.order_id = i.order_id
    where {{ within_touched('i.order_id', 'touched') }} and {{ within_touched('o.order_id', 'touched') }}
),

current_lines as (
    select {{ columns('model.FCT_ORDER_ITEMS', 'f.') }}
    from {{ fact }} as f
    inner join touched as t on t.order_id = f.order_id
    where {{ within_touched('f.order_id', 'touched') }}
)

-- a line is written when it is new, gone (no longer derived) or any of its columns differs;
-- IS DISTINCT FROM takes two nulls as equal (https://docs.snowflake.com/en/sql-reference/functions/is-distinct-from)
select
{%- for c in fact_columns %}
    iff(d.order_id is null, c.{{ c }}, d.{{ c }}) as {{ c }},
{%- endfor %}
    c.order_date as previous_order_date,
    d.order_id is null as removed
from derived as d
full outer join current_lines as c on c.order_id = d.order_id and c.line_number = d.line_number
where d.order_id is null or c.order_id is null
{%- for col in fact_columns if col not in ('order_id', 'line_number') %}
    or d.{{ col }} is distinct from c.{{ col }}
{%- endfor %};

{% call add_pending_dates('fct_order_items') %}
    select order_date as revenue_date from {{ changes }} where not removed
    union
    select previous_order_date from {{ changes }}
{%- endcall %};

delete from {{ fact }} as f
using {{ changes }} as c
where f.order_id = c.order_id and f.line_number = c.line_number
    and {{ within('f.order_id', 'order_id', changed_orders) }};

insert into {{ fact }} ({{ fact_columns | join(', ') }})
select {{ fact_columns | join(', ') }}
from {{ changes }}
where not removed
-- in the order of the clustering key (model.yml)
order by order_date;

commit;
