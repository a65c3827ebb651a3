{#- What a purchase is: docs/metrics.md. -#}
{#- Every purchase (online order or store transaction with a loyalty card) up to `as_of`, an SQL
    date expression. Shared by the RFM and the feature builds so they agree on what a purchase is. -#}
{% macro purchases(as_of) -%}
    select customer_id, order_date as purchase_date, order_id as purchase_id, 'online' as channel,
           net_amount as amount
    from {{ ref('model.FCT_ORDERS') }}
    where order_date <= {{ as_of }}
    union all
    select customer_id, min(sold_date) as purchase_date, transaction_id as purchase_id, 'store' as channel,
           sum(net_amount)::number(14, 2) as amount
    from {{ ref('model.FCT_STORE_SALES') }}
    where customer_id is not null and sold_date <= {{ as_of }}
    group by customer_id, transaction_id
{%- endmacro %}

{#- The latest date with any sale: "now" for the current RFM and features. -#}
{% macro data_as_of() -%}
    (select max(d) from (
        select max(order_date) as d from {{ ref('model.FCT_ORDERS') }}
        union all
        select max(sold_date) as d from {{ ref('model.FCT_STORE_SALES') }}
    ))
{%- endmacro %}
