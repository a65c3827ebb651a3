-- CUSTOMER_FEATURES_BASE (built in GOLD_STAGE for the customers in GOLD_STAGE.CUSTOMER_CHANGES,
-- published by gold/publish.sql): the churn model's inputs as of the latest sale date in MODEL,
-- less the two that move with the date by themselves (tenure and recency: the view
-- GOLD.CUSTOMER_FEATURES derives them from the signup and last purchase dates kept here). The
-- definitions are gold/_customer_features.sql's (docs/metrics.md), which the churn model computes
-- from the facts at any cut-off; here the same values come from the customer aggregates MODEL
-- keeps up to date, so the daily cost follows the customers that changed: totals from
-- MODEL.CUSTOMER_ACTIVITY, less what is dated after the as-of date (payments and status changes
-- can be), and the 90-day windows from MODEL.CUSTOMER_ACTIVITY_DAILY.
-- tests/unit/test_customer_activity.py checks both ways give the same rows.
{% from 'gold/_build.sql' import build %}
{% from 'gold/_ratio.sql' import ratio %}
{%- set daily = ref('model.CUSTOMER_ACTIVITY_DAILY') %}
{%- set changed = '(select customer_id from ' ~ ref('gold_stage.CUSTOMER_CHANGES') ~ ')' %}
{% call build('CUSTOMER_FEATURES_BASE') %}
with as_of as (
    select as_of_date from {{ ref('gold_stage.CUSTOMER_AS_OF') }}
),

customers as (
    select c.customer_id, c.segment, c.state, c.signup_date, a.as_of_date
    from {{ ref('model.DIM_CUSTOMER') }} as c
    cross join as_of as a
    where c.valid_from < dateadd(day, 1, a.as_of_date) and c.valid_to >= dateadd(day, 1, a.as_of_date)
      and c.signup_date <= a.as_of_date
      and c.customer_id in {{ changed }}
),

-- activity dated after the as-of date: only cancellations and payments can be
later as (
    select
        d.customer_id,
        sum(d.cancelled_or_returned) as cancelled_or_returned,
        sum(d.paid) as paid,
        sum(d.card) as card,
        sum(d.paypal) as paypal,
        sum(d.gift_card) as gift_card,
        sum(d.bank_transfer) as bank_transfer
    from {{ daily }} as d
    cross join as_of as a
    where d.activity_date > a.as_of_date
        and d.customer_id in {{ changed }}
    group by d.customer_id
),

totals as (
    select
        t.customer_id,
        t.purchases,
        t.online_purchases,
        t.store_purchases,
        t.spend::number(14, 2) as spend,
        t.last_purchase_date,
        t.orders,
        t.cancelled_or_returned - coalesce(l.cancelled_or_returned, 0) as cancelled_or_returned,
        (t.paid - coalesce(l.paid, 0))::number(14, 2) as paid,
        (t.card - coalesce(l.card, 0))::number(14, 2) as card,
        (t.paypal - coalesce(l.paypal, 0))::number(14, 2) as paypal,
        (t.gift_card - coalesce(l.gift_card, 0))::number(14, 2) as gift_card,
        (t.bank_transfer - coalesce(l.bank_transfer, 0))::number(14, 2) as bank_transfer
    from {{ ref('model.CUSTOMER_ACTIVITY') }} as t
    left join later as l on l.customer_id = t.customer_id
    where t.customer_id in {{ changed }}
),

recent as (
    select
        d.customer_id,
        sum(iff(d.activity_date > dateadd(day, -90, a.as_of_date), d.purchases, 0)) as purchases_90d,
        sum(iff(d.activity_date <= dateadd(day, -90, a.as_of_date), d.purchases, 0)) as purchases_prev_90d,
        sum(iff(d.activity_date > dateadd(day, -90, a.as_of_date), d.spend, 0))::number(14, 2) as spend_90d
    from {{ daily }} as d
    cross join as_of as a
    where d.activity_date > dateadd(day, -180, a.as_of_date) and d.activity_date <= a.as_of_date
        and d.customer_id in {{ changed }}
    group by d.customer_id
)

select
    c.customer_id,
    c.segment,
    c.state,
    c.signup_date,
    t.last_purchase_date,
    coalesce(t.purchases, 0) as purchases_total,
    coalesce(t.online_purchases, 0) as online_orders_total,
    coalesce(t.store_purchases, 0) as store_visits_total,
    coalesce(r.purchases_90d, 0) as purchases_90d,
    coalesce(r.purchases_prev_90d, 0) as purchases_prev_90d,
    coalesce(r.purchases_90d, 0) - coalesce(r.purchases_prev_90d, 0) as frequency_trend,
    coalesce(t.spend, 0) as spend_total,
    coalesce(r.spend_90d, 0) as spend_90d,
    coalesce({{ ratio('t.spend', 't.purchases', 2) }}, 0) as avg_order_value,
    coalesce({{ ratio('t.online_purchases', 't.purchases', 4) }}, 0) as online_share,
    coalesce({{ ratio('t.cancelled_or_returned', 't.orders', 4) }}, 0) as cancel_return_share,
    coalesce({{ ratio('t.card', 't.paid', 4) }}, 0) as card_share,
    coalesce({{ ratio('t.paypal', 't.paid', 4) }}, 0) as paypal_share,
    coalesce({{ ratio('t.gift_card', 't.paid', 4) }}, 0) as gift_card_share,
    coalesce({{ ratio('t.bank_transfer', 't.paid', 4) }}, 0) as bank_transfer_share
from customers as c
left join totals as t on t.customer_id = c.customer_id
left join recent as r on r.customer_id = c.customer_id
{% endcall %}
