{#- Column definitions: docs/metrics.md. -#}
{#- Churn-model features of every customer known at `as_of` (an SQL date expression), using only
    facts dated on or before it: attributes from the DIM_CUSTOMER version valid that day,
    purchases placed by then, statuses and payments recorded by then. Used for the published
    GOLD.CUSTOMER_FEATURES and, with past cut-off dates, for training the churn model. -#}
{% from 'gold/_purchases.sql' import purchases %}
{% from 'gold/_ratio.sql' import ratio %}
{% macro customer_features(as_of) -%}
with as_of as (
    select {{ as_of }} as as_of_date
),

customers as (
    select c.customer_id, c.segment, c.state, c.signup_date, a.as_of_date
    from {{ ref('model.DIM_CUSTOMER') }} as c
    cross join as_of as a
    where c.valid_from < dateadd(day, 1, a.as_of_date) and c.valid_to >= dateadd(day, 1, a.as_of_date)
      and c.signup_date <= a.as_of_date
),

purchases as (
    {{ purchases('(select as_of_date from as_of)') }}
),

purchase_stats as (
    select
        p.customer_id,
        count(*) as purchases_total,
        count_if(p.channel = 'online') as online_orders_total,
        count_if(p.channel = 'store') as store_visits_total,
        count_if(p.purchase_date > dateadd(day, -90, a.as_of_date)) as purchases_90d,
        count_if(p.purchase_date <= dateadd(day, -90, a.as_of_date)
                 and p.purchase_date > dateadd(day, -180, a.as_of_date)) as purchases_prev_90d,
        -- cast: exact money even where an engine sums in floating point (the local stand-in)
        sum(p.amount)::number(14, 2) as spend_total,
        sum(iff(p.purchase_date > dateadd(day, -90, a.as_of_date), p.amount, 0))::number(14, 2) as spend_90d,
        max(p.purchase_date) as last_purchase_date
    from purchases as p
    cross join as_of as a
    group by p.customer_id
),

order_outcomes as (
    select
        o.customer_id,
        count(*) as orders,
        count_if(o.order_status in ('cancelled', 'returned')
                 and o.status_updated_at < dateadd(day, 1, a.as_of_date)) as cancelled_or_returned
    from {{ ref('model.FCT_ORDERS') }} as o
    cross join as_of as a
    where o.order_date <= a.as_of_date
    group by o.customer_id
),

payment_mix as (
    select
        o.customer_id,
        sum(y.amount)::number(14, 2) as paid,
        sum(iff(y.payment_method = 'card', y.amount, 0))::number(14, 2) as card,
        sum(iff(y.payment_method = 'paypal', y.amount, 0))::number(14, 2) as paypal,
        sum(iff(y.payment_method = 'gift_card', y.amount, 0))::number(14, 2) as gift_card,
        sum(iff(y.payment_method = 'bank_transfer', y.amount, 0))::number(14, 2) as bank_transfer
    from {{ ref('model.FCT_PAYMENTS') }} as y
    inner join {{ ref('model.FCT_ORDERS') }} as o on o.order_id = y.order_id
    cross join as_of as a
    where y.paid_date <= a.as_of_date
    group by o.customer_id
)

select
    c.customer_id,
    c.as_of_date,
    c.segment,
    c.state,
    datediff(day, c.signup_date, c.as_of_date) as tenure_days,
    coalesce(s.purchases_total, 0) as purchases_total,
    coalesce(s.online_orders_total, 0) as online_orders_total,
    coalesce(s.store_visits_total, 0) as store_visits_total,
    coalesce(s.purchases_90d, 0) as purchases_90d,
    coalesce(s.purchases_prev_90d, 0) as purchases_prev_90d,
    coalesce(s.purchases_90d, 0) - coalesce(s.purchases_prev_90d, 0) as frequency_trend,
    coalesce(s.spend_total, 0) as spend_total,
    coalesce(s.spend_90d, 0) as spend_90d,
    coalesce({{ ratio('s.spend_total', 's.purchases_total', 2) }}, 0) as avg_order_value,
    -- never bought: recency counts from signup
    datediff(day, coalesce(s.last_purchase_date, c.signup_date), c.as_of_date) as recency_days,
    coalesce({{ ratio('s.online_orders_total', 's.purchases_total', 4) }}, 0) as online_share,
    coalesce({{ ratio('oo.cancelled_or_returned', 'oo.orders', 4) }}, 0) as cancel_return_share,
    coalesce({{ ratio('pm.card', 'pm.paid', 4) }}, 0) as card_share,
    coalesce({{ ratio('pm.paypal', 'pm.paid', 4) }}, 0) as paypal_share,
    coalesce({{ ratio('pm.gift_card', 'pm.paid', 4) }}, 0) as gift_card_share,
    coalesce({{ ratio('pm.bank_transfer', 'pm.paid', 4) }}, 0) as bank_transfer_share
from customers as c
left join purchase_stats as s on s.customer_id = c.customer_id
left join order_outcomes as oo on oo.customer_id = c.customer_id
left join payment_mix as pm on pm.customer_id = c.customer_id
{%- endmacro %}
