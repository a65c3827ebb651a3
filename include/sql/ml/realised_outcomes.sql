-- The scores stored for one date and what each scored customer did next: churned = 1 when they
-- placed no order in the horizon after it (the training label's definition, features.py).
with scores as (
    select customer_id, churn_score, model_id
    from {{ ref('ml.CUSTOMER_CHURN_SCORE') }}
    where business_date = %(scored_date)s::date
),

later_orders as (
    select distinct customer_id
    from {{ ref('model.FCT_ORDERS') }}
    where order_date > %(scored_date)s::date
      and order_date <= dateadd(day, %(horizon_days)s, %(scored_date)s::date)
)

select
    s.customer_id,
    s.churn_score,
    s.model_id,
    iff(l.customer_id is null, 1, 0) as churned
from scores as s
left join later_orders as l on l.customer_id = s.customer_id
order by s.customer_id
