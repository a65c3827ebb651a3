-- MODEL.FCT_STORE_SALES: one row per in-store sale line, upserted from the lines that changed in
-- the window. customer_id is null for sales without a loyalty card.
merge into {{ wh.database }}.{{ wh.model }}.FCT_STORE_SALES as t
using (
    select
        transaction_id, line_number, store_id, product_id, customer_id, sold_at,
        sold_at::date as sold_date,
        quantity, unit_price, discount_amount,
        quantity * unit_price - discount_amount as net_amount
    from {{ wh.database }}.{{ wh.silver }}.STORE_SALES
    where _batch_date between '{{ window.start }}' and '{{ window.end }}'
) as s
on t.transaction_id = s.transaction_id and t.line_number = s.line_number
when matched then update set
    store_id = s.store_id,
    product_id = s.product_id,
    customer_id = s.customer_id,
    sold_at = s.sold_at,
    sold_date = s.sold_date,
    quantity = s.quantity,
    unit_price = s.unit_price,
    discount_amount = s.discount_amount,
    net_amount = s.net_amount
when not matched then insert (
    transaction_id, line_number, store_id, product_id, customer_id, sold_at, sold_date,
    quantity, unit_price, discount_amount, net_amount
) values (
    s.transaction_id, s.line_number, s.store_id, s.product_id, s.customer_id, s.sold_at, s.sold_date,
    s.quantity, s.unit_price, s.discount_amount, s.net_amount
)
