-- MODEL.DIM_PRODUCT (SCD1): the latest SILVER record of every product changed in the run's change set.
-- GOLD shows each line under its product's current category: the dates with lines of a product
-- that is new or whose category changes are noted for GOLD first (a separate statement: the stand-in
-- cannot run a MERGE in a transaction that already wrote; noting a date twice is harmless).
{% from '_changes.sql' import changed_batches %}
{% from 'model/_customer_activity.sql' import add_pending_dates %}
{% call add_pending_dates('dim_product') %}
    with changed as (
        select s.product_id
        from {{ ref('silver.PRODUCTS') }} as s
        left join {{ ref('model.DIM_PRODUCT') }} as d on d.product_id = s.product_id
        where s._batch_date in {{ changed_batches('products') }}
            and (d.product_id is null or d.category is distinct from s.category)
    )

    select order_date as revenue_date
    from {{ ref('model.FCT_ORDER_ITEMS') }}
    where product_id in (select product_id from changed)
    union
    select sold_date
    from {{ ref('model.FCT_STORE_SALES') }}
    where product_id in (select product_id from changed)
{%- endcall %};

merge into {{ ref('model.DIM_PRODUCT') }} as t
using (
    select product_id, product_name, category, brand, unit_price, unit_cost, is_active, updated_at
    from {{ ref('silver.PRODUCTS') }}
    where _batch_date in {{ changed_batches('products') }}
) as s
on t.product_id = s.product_id
when matched then update set
    product_name = s.product_name,
    category = s.category,
    brand = s.brand,
    unit_price = s.unit_price,
    unit_cost = s.unit_cost,
    is_active = s.is_active,
    updated_at = s.updated_at
when not matched then insert (product_id, product_name, category, brand, unit_price, unit_cost, is_active, updated_at)
    values (s.product_id, s.product_name, s.category, s.brand, s.unit_price, s.unit_cost, s.is_active, s.updated_at)
