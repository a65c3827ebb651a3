{#- What a fact row contributes to a customer's activity on a date (MODEL.CUSTOMER_ACTIVITY_DAILY;
    definitions in docs/metrics.md, "Customer activity"), signed: the MODEL steps add a fact's new
    rows (sign 1) and subtract its old ones (sign -1) into MODEL.PENDING_CUSTOMER_ACTIVITY, in the
    same transaction as the fact's rebuild, so the sums follow the facts exactly and a retry adds
    nothing. model/customer_activity.sql applies them. Column order: ACTIVITY_COLUMNS. -#}
{% set ACTIVITY_COLUMNS = [
    'purchases', 'online_purchases', 'store_purchases', 'spend', 'orders', 'cancelled_or_returned',
    'paid', 'card', 'paypal', 'gift_card', 'bank_transfer',
] %}
{% set PAYMENT_METHODS = ['card', 'paypal', 'gift_card', 'bank_transfer'] %}

{#- The column list of the activity tables, after the customer and the date. -#}
{% macro activity_columns() -%}
    customer_id, activity_date, {{ ACTIVITY_COLUMNS | join(', ') }}
{%- endmacro %}

{#- `orders`: FCT_ORDERS rows (a relation). An order is a purchase, and an order, on its order
    date; a cancelled or returned one counts as such from the later of its order and status dates. -#}
{% macro order_activity(orders, sign) -%}
    select
        customer_id, order_date, {{ sign }}, {{ sign }}, 0, {{ sign }} * net_amount, {{ sign }}, 0,
        0, 0, 0, 0, 0
    from {{ orders }}
    union all
    select
        customer_id, greatest(order_date, status_updated_at::date), 0, 0, 0, 0, 0, {{ sign }},
        0, 0, 0, 0, 0
    from {{ orders }}
    where order_status in ('cancelled', 'returned')
{%- endmacro %}

{#- `payments`: FCT_PAYMENTS rows with their order's customer_id (a relation); by paid date. -#}
{% macro payment_activity(payments, sign) -%}
    select
        customer_id, paid_date, 0, 0, 0, 0, 0, 0, {{ sign }} * amount
        {%- for method in PAYMENT_METHODS %}, iff(payment_method = '{{ method }}', {{ sign }} * amount, 0){% endfor %}
    from {{ payments }}
{%- endmacro %}

{#- `lines`: every FCT_STORE_SALES line of the transactions concerned (a relation). A store
    transaction with a loyalty card is one purchase of that customer, on its first line's date. -#}
{% macro store_activity(lines, sign) -%}
    select
        customer_id, min(sold_date), {{ sign }}, 0, {{ sign }}, {{ sign }} * sum(net_amount)::number(14, 2), 0, 0,
        0, 0, 0, 0, 0
    from {{ lines }}
    where customer_id is not null
    group by customer_id, transaction_id
{%- endmacro %}

{#- Insert the activity rows the call's body selects into the pending deltas. -#}
{% macro add_pending_activity() -%}
insert into {{ ref('model.PENDING_CUSTOMER_ACTIVITY') }} ({{ activity_columns() }})
{{ caller() }}
{%- endmacro %}

{#- Note the revenue dates the call's body selects (one column named revenue_date) for GOLD, once each. -#}
{% macro add_pending_dates(source) -%}
insert into {{ ref('model.PENDING_REVENUE_DATES') }} (revenue_date, source)
select distinct d.revenue_date, '{{ source }}'
from (
{{ caller() }}
) as d
where d.revenue_date is not null
    and not exists (
        select 1 from {{ ref('model.PENDING_REVENUE_DATES') }} as p where p.revenue_date = d.revenue_date
    )
{%- endmacro %}
