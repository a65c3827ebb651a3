-- The order dates MODEL holds: training cut-offs and label windows must lie inside them.
select min(order_date) as first_order_date, max(order_date) as last_order_date
from {{ ref('model.FCT_ORDERS') }}
