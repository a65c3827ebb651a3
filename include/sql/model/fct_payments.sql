-- MODEL.FCT_PAYMENTS: one row per payment, rebuilt for the payments that came in the run's change
-- set (delete + insert of those payment ids, one transaction). A payment counts in the customer
-- activity of its order's customer on its paid date: what the rebuilt payments contributed before
-- is subtracted and what they contribute now is added. Runs after model.fct_orders, so both see
-- the orders' current customers.
{% from '_changes.sql' import changed_batches, within %}
{% from 'model/_customer_activity.sql' import add_pending_activity, payment_activity %}
{%- set changed -%}
    select payment_id from {{ ref('silver.PAYMENTS') }} where _batch_date in {{ changed_batches('payments') }}
{%- endset %}
{%- macro activity(sign) -%}
{% call add_pending_activity() %}
with payments as (
    select y.payment_id, y.payment_method, y.amount, y.paid_date, o.customer_id
    from {{ ref('model.FCT_PAYMENTS') }} as y
    inner join {{ ref('model.FCT_ORDERS') }} as o on o.order_id = y.order_id
    where y.payment_id in ({{ changed }})
        and {{ within('y.payment_id', 'payment_id', changed) }}
)

{{ payment_activity('payments', sign) }}
{%- endcall %}
{%- endmacro %}
begin;

{{ activity(-1) }};

delete from {{ ref('model.FCT_PAYMENTS') }}
where payment_id in ({{ changed }})
    and {{ within('payment_id', 'payment_id', changed) }};

insert into {{ ref('model.FCT_PAYMENTS') }} (payment_id, order_id, payment_method, amount, paid_at, paid_date)
select payment_id, order_id, payment_method, amount, paid_at, paid_at::date as paid_date
from {{ ref('silver.PAYMENTS') }}
where _batch_date in {{ changed_batches('payments') }}
-- in the order of the clustering key (model.yml)
order by paid_date;

{{ activity(1) }};

commit;
