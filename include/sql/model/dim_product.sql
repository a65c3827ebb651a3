-- MODEL.DIM_PRODUCT (SCD1): the latest SILVER record of every product changed in the window.
merge into {{ wh.database }}.{{ wh.model }}.DIM_PRODUCT as t
using (
    select product_id, product_name, category, brand, unit_price, unit_cost, is_active, updated_at
    from {{ wh.database }}.{{ wh.silver }}.PRODUCTS
    where _batch_date between '{{ window.start }}' and '{{ window.end }}'
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
