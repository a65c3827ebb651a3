{#- Orders whose SILVER order row or any of whose SILVER lines came from the run's change set. -#}
{% from '_changes.sql' import changed_batches, within %}
{% macro touched_orders() -%}
    select order_id
    from {{ ref('silver.ORDERS') }}
    where _batch_date in {{ changed_batches('orders') }}
    union
    select order_id
    from {{ ref('silver.ORDER_ITEMS') }}
    where _batch_date in {{ changed_batches('order_items') }}
{%- endmacro %}


{#- `column` (an order id) within the least and greatest touched order id (`within`): order ids
    follow the order date, the facts' clustering key. In a statement that has the touched orders
    as a CTE already, `cte` names it, so the bounds read that instead of the change set again. -#}
{% macro within_touched(column, cte=none) -%}
    {{ within(column, 'order_id', 'select order_id from ' ~ cte if cte else touched_orders()) }}
{%- endmacro %}
