-- MODEL.CUSTOMER_ACTIVITY_DAILY (customer, date) and MODEL.CUSTOMER_ACTIVITY (customer): the
-- per-customer aggregates GOLD's RFM and churn features derive from (docs/metrics.md, "Customer
-- activity"). The fact steps left signed deltas in PENDING_CUSTOMER_ACTIVITY; this applies them
-- to the (customer, date) rows they touch and recomputes those customers' totals, in one
-- transaction, then empties the deltas. Work follows the change: only touched customers and
-- dates are rewritten. A run with a forced change set (lookback_days > 0, the full rebuild)
-- recomputes the touched customers' rows from the facts instead, so a rebuild also repairs them.
{% from '_changes.sql' import changed_dates %}
{% from 'model/_customer_activity.sql' import ACTIVITY_COLUMNS, activity_columns, order_activity, payment_activity, store_activity %}
{#- a column's sum; money in cents: the stand-in may sum it in binary floating point -#}
{%- macro summed(c) %}sum({{ c }}){% if c in ('spend', 'paid', 'card', 'paypal', 'gift_card', 'bank_transfer') %}::number(18, 2){% endif %}{% endmacro %}
{%- set sums %}{% for c in ACTIVITY_COLUMNS %}{{ summed(c) }} as {{ c }}{{ ', ' if not loop.last }}{% endfor %}{% endset %}
{%- set nonzero %}{% for c in ACTIVITY_COLUMNS %}sum({{ c }}) <> 0{{ ' or ' if not loop.last }}{% endfor %}{% endset %}
{%- set nonzero_cents %}{% for c in ACTIVITY_COLUMNS %}{{ summed(c) }} <> 0{{ ' or ' if not loop.last }}{% endfor %}{% endset %}
{%- set touched_customers %}select customer_id from {{ ref('model.PENDING_CUSTOMER_ACTIVITY') }}{% endset %}
{%- set forced %}exists (
    select 1 from {{ ref('audit.TRANSFORM_CHANGES') }} where run_id = %(run_id)s and forced
){% endset %}
begin;

-- 0. a (customer, date) whose deltas cancel out (a rebuilt order or payment that contributes
--    what it did before: most status updates) changes nothing; its deltas are dropped, so that
--    customer is not rewritten here nor noted for GOLD. Not in a forced run: the rebuild from the
--    facts below repairs every customer its change set touched.
delete from {{ ref('model.PENDING_CUSTOMER_ACTIVITY') }} as p
using (
    select customer_id, activity_date
    from {{ ref('model.PENDING_CUSTOMER_ACTIVITY') }}
    group by customer_id, activity_date
    having not ({{ nonzero_cents }})
) as z
where p.customer_id = z.customer_id and p.activity_date = z.activity_date
    and not {{ forced }};

-- 1. the touched (customer, date) rows join their deltas; their sums replace them
insert into {{ ref('model.PENDING_CUSTOMER_ACTIVITY') }} ({{ activity_columns() }})
select {{ activity_columns() }}
from {{ ref('model.CUSTOMER_ACTIVITY_DAILY') }} as d
where exists (
    select 1 from {{ ref('model.PENDING_CUSTOMER_ACTIVITY') }} as p
    where p.customer_id = d.customer_id and p.activity_date = d.activity_date
);

delete from {{ ref('model.CUSTOMER_ACTIVITY_DAILY') }} as d
using (select distinct customer_id, activity_date from {{ ref('model.PENDING_CUSTOMER_ACTIVITY') }}) as p
where d.customer_id = p.customer_id and d.activity_date = p.activity_date;

insert into {{ ref('model.CUSTOMER_ACTIVITY_DAILY') }} ({{ activity_columns() }})
select customer_id, activity_date, {{ sums }}
from {{ ref('model.PENDING_CUSTOMER_ACTIVITY') }}
group by customer_id, activity_date
having {{ nonzero }};

-- 2. full rebuild only: the touched customers' rows again, from the facts
delete from {{ ref('model.CUSTOMER_ACTIVITY_DAILY') }}
where customer_id in ({{ touched_customers }}) and {{ forced }};

insert into {{ ref('model.CUSTOMER_ACTIVITY_DAILY') }} ({{ activity_columns() }})
with customers as (
    select distinct customer_id from {{ ref('model.PENDING_CUSTOMER_ACTIVITY') }} where {{ forced }}
),

orders as (
    select o.*
    from {{ ref('model.FCT_ORDERS') }} as o
    inner join customers as c on c.customer_id = o.customer_id
),

payments as (
    select y.payment_id, y.payment_method, y.amount, y.paid_date, o.customer_id
    from {{ ref('model.FCT_PAYMENTS') }} as y
    inner join orders as o on o.order_id = y.order_id
),

lines as (
    select s.transaction_id, s.customer_id, s.sold_date, s.net_amount
    from {{ ref('model.FCT_STORE_SALES') }} as s
    inner join customers as c on c.customer_id = s.customer_id
),

activity ({{ activity_columns() }}) as (
    {{ order_activity('orders', 1) }}
    union all
    {{ payment_activity('payments', 1) }}
    union all
    {{ store_activity('lines', 1) }}
)

select customer_id, activity_date, {{ sums }}
from activity
group by customer_id, activity_date
having {{ nonzero }};

-- 3. the touched customers' totals, from their rows
delete from {{ ref('model.CUSTOMER_ACTIVITY') }}
where customer_id in ({{ touched_customers }});

insert into {{ ref('model.CUSTOMER_ACTIVITY') }} ({{ activity_columns() | replace('activity_date, ', '') }}, first_purchase_date, last_purchase_date)
select
    customer_id, {{ sums }},
    min(iff(purchases > 0, activity_date, null)),
    max(iff(purchases > 0, activity_date, null))
from {{ ref('model.CUSTOMER_ACTIVITY_DAILY') }}
where customer_id in ({{ touched_customers }})
group by customer_id;

-- 4. the touched customers, for GOLD's customer tables; the deltas are applied
insert into {{ ref('model.PENDING_CUSTOMERS') }} (customer_id)
select distinct customer_id from {{ ref('model.PENDING_CUSTOMER_ACTIVITY') }};

delete from {{ ref('model.PENDING_CUSTOMER_ACTIVITY') }};

commit;
