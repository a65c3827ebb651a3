-- DAILY_REVENUE (built in GOLD_STAGE, published by gold/publish.sql): booked net revenue
-- (quantity x unit price - discount) per day, channel, product category and state, for every date
-- of the window. Online lines count on the order's placement date, store lines on their sale date.
-- Cancellations and returns are not deducted.
delete from {{ wh.database }}.{{ wh.gold_stage }}.DAILY_REVENUE;

insert into {{ wh.database }}.{{ wh.gold_stage }}.DAILY_REVENUE (
    revenue_date, channel, category, state, orders, units, gross_amount, discount_amount, net_revenue
)
with online_lines as (
    select
        i.order_date as revenue_date,
        i.channel,
        coalesce(p.category, 'unknown') as category,
        coalesce(i.shipping_state, 'unknown') as state,
        i.order_id as basket_id,
        i.quantity,
        i.quantity * i.unit_price as gross_amount,
        i.discount_amount,
        i.net_amount
    from {{ wh.database }}.{{ wh.model }}.FCT_ORDER_ITEMS as i
    left join {{ wh.database }}.{{ wh.model }}.DIM_PRODUCT as p on p.product_id = i.product_id
    where i.order_date between '{{ window.start }}' and '{{ window.end }}'
),

store_lines as (
    select
        s.sold_date as revenue_date,
        'store' as channel,
        coalesce(p.category, 'unknown') as category,
        coalesce(st.state, 'unknown') as state,
        s.transaction_id as basket_id,
        s.quantity,
        s.quantity * s.unit_price as gross_amount,
        s.discount_amount,
        s.net_amount
    from {{ wh.database }}.{{ wh.model }}.FCT_STORE_SALES as s
    left join {{ wh.database }}.{{ wh.model }}.DIM_PRODUCT as p on p.product_id = s.product_id
    left join {{ wh.database }}.{{ wh.model }}.DIM_STORE as st on st.store_id = s.store_id
    where s.sold_date between '{{ window.start }}' and '{{ window.end }}'
),

all_lines as (
    select revenue_date, channel, category, state, basket_id, quantity, gross_amount, discount_amount, net_amount
    from online_lines
    union all
    select revenue_date, channel, category, state, basket_id, quantity, gross_amount, discount_amount, net_amount
    from store_lines
)

select
    revenue_date, channel, category, state,
    count(distinct basket_id) as orders,
    sum(quantity) as units,
    sum(gross_amount) as gross_amount,
    sum(discount_amount) as discount_amount,
    sum(net_amount) as net_revenue
from all_lines
group by revenue_date, channel, category, state
