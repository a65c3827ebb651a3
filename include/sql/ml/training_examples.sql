-- Training examples at one cut-off: the GOLD feature definitions as of the cut-off (nothing dated
-- after it), for the scoring population only (active customers: docs/ml.md, "Population"), and
-- the label: 1 when the customer places no online order in the horizon after it.
{% from 'gold/_customer_features.sql' import customer_features %}
with features as (
    {{ customer_features("'" ~ cutoff.isoformat() ~ "'::date") }}
),

later_orders as (
    select distinct customer_id
    from {{ ref('model.FCT_ORDERS') }}
    where order_date > '{{ cutoff.isoformat() }}'::date
      and order_date <= dateadd(day, {{ horizon_days }}, '{{ cutoff.isoformat() }}'::date)
)

select
    f.*,
    iff(l.customer_id is null, 1, 0) as churned
from features as f
left join later_orders as l on l.customer_id = f.customer_id
where f.recency_days <= {{ active_days }}
