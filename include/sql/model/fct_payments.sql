-- MODEL.FCT_PAYMENTS: one row per payment, upserted from the payments that changed in the window.
merge into {{ wh.database }}.{{ wh.model }}.FCT_PAYMENTS as t
using (
    select payment_id, order_id, payment_method, amount, paid_at, paid_at::date as paid_date
    from {{ wh.database }}.{{ wh.silver }}.PAYMENTS
    where _batch_date between '{{ window.start }}' and '{{ window.end }}'
) as s
on t.payment_id = s.payment_id
when matched then update set
    order_id = s.order_id,
    payment_method = s.payment_method,
    amount = s.amount,
    paid_at = s.paid_at,
    paid_date = s.paid_date
when not matched then insert (payment_id, order_id, payment_method, amount, paid_at, paid_date)
    values (s.payment_id, s.order_id, s.payment_method, s.amount, s.paid_at, s.paid_date)
