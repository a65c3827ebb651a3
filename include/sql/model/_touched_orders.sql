{#- Orders whose SILVER order row or any of whose SILVER lines changed in the window. -#}
{% macro touched_orders(window) -%}
    select order_id
    from {{ wh.database }}.{{ wh.silver }}.ORDERS
    where _batch_date between '{{ window.start }}' and '{{ window.end }}'
    union
    select order_id
    from {{ wh.database }}.{{ wh.silver }}.ORDER_ITEMS
    where _batch_date between '{{ window.start }}' and '{{ window.end }}'
{%- endmacro %}
