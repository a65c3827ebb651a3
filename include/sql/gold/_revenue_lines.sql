{#- What a sold line is: docs/metrics.md. -#}
{#- Every sold line dated on a date (`kind` 'revenue') or in a month (`kind` 'month') the staged
    build covers (GOLD_STAGE.BUILD_DATES): online order lines on the order's
    placement date, store sale lines on their sale date. One definition for DAILY_REVENUE and the
    KPI tables, so their sums agree. Money per line: gross = quantity x unit price; the discount
    is the line's total discount (not per unit); net = gross - discount. `basket_key` identifies
    an online order or a store transaction across channels; `customer_id` is null for a store
    sale without a loyalty card. Category and state are the product's and store's current ones. -#}
{% from '_changes.sql' import build_dates %}
{#- A month's lines are also bounded by the covered months' first and last day, on the column
    itself: a predicate on date_trunc() of a column cannot prune the fact's micro-partitions
    (zone maps locally), the range can (its clustering key, model.yml). -#}
{% macro _covered(column, kind) -%}
    {%- if kind == 'month' -%}
    {{ column }} >= (select min(business_date) from {{ build_dates(kind) }})
        and {{ column }} < (select dateadd(month, 1, max(business_date)) from {{ build_dates(kind) }})
        and date_trunc('month', {{ column }})::date in {{ build_dates(kind) }}
    {%- else -%}{{ column }} in {{ build_dates(kind) }}
    {%- endif %}
{%- endmacro %}

{% macro revenue_lines(kind) -%}
    select
        i.order_date as revenue_date,
        i.channel,
        coalesce(p.category, 'unknown') as category,
        coalesce(i.shipping_state, 'unknown') as state,
        'order:' || i.order_id as basket_key,
        i.customer_id,
        i.quantity,
        i.quantity * i.unit_price as gross_amount,
        i.discount_amount,
        i.net_amount
    from {{ ref('model.FCT_ORDER_ITEMS') }} as i
    left join {{ ref('model.DIM_PRODUCT') }} as p on p.product_id = i.product_id
    where {{ _covered('i.order_date', kind) }}
    union all
    select
        s.sold_date,
        'store',
        coalesce(p.category, 'unknown'),
        coalesce(st.state, 'unknown'),
        'store:' || s.transaction_id,
        s.customer_id,
        s.quantity,
        s.quantity * s.unit_price,
        s.discount_amount,
        s.net_amount
    from {{ ref('model.FCT_STORE_SALES') }} as s
    left join {{ ref('model.DIM_PRODUCT') }} as p on p.product_id = s.product_id
    left join {{ ref('model.DIM_STORE') }} as st on st.store_id = s.store_id
    where {{ _covered('s.sold_date', kind) }}
{%- endmacro %}

{#- Order/customer counts and money of `lines` per `grain` (a column list), plus the same for all
    channels together (channel = 'all'): distinct counts are computed at each grain from the lines,
    never summed from a finer one. Money sums are cast back to cents: the local stand-in sums
    decimals as binary floating point, whose last bits follow the order rows were written in, and
    a ratio on such a sum (average order value at a half cent) would then depend on the load
    order. On Snowflake the cast changes nothing. -#}
{% macro kpis(period) -%}
    select
        {{ period }} as period, channel,
        count(distinct basket_key) as orders,
        count(distinct customer_id) as customers,
        count(distinct revenue_date) as days_with_sales,
        sum(quantity) as units,
        sum(gross_amount)::number(14, 2) as gross_amount,
        sum(discount_amount)::number(14, 2) as discount_amount,
        sum(net_amount)::number(14, 2) as net_revenue
    from lines
    group by {{ period }}, channel
    union all
    select
        {{ period }}, 'all',
        count(distinct basket_key),
        count(distinct customer_id),
        count(distinct revenue_date),
        sum(quantity),
        sum(gross_amount)::number(14, 2),
        sum(discount_amount)::number(14, 2),
        sum(net_amount)::number(14, 2)
    from lines
    group by {{ period }}
{%- endmacro %}
