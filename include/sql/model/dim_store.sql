-- MODEL.DIM_STORE (SCD1): the latest SILVER record of every store changed in the window.
merge into {{ wh.database }}.{{ wh.model }}.DIM_STORE as t
using (
    select store_id, store_name, store_type, city, state, region, opened_date, updated_at
    from {{ wh.database }}.{{ wh.silver }}.STORES
    where _batch_date between '{{ window.start }}' and '{{ window.end }}'
) as s
on t.store_id = s.store_id
when matched then update set
    store_name = s.store_name,
    store_type = s.store_type,
    city = s.city,
    state = s.state,
    region = s.region,
    opened_date = s.opened_date,
    updated_at = s.updated_at
when not matched then insert (store_id, store_name, store_type, city, state, region, opened_date, updated_at)
    values (s.store_id, s.store_name, s.store_type, s.city, s.state, s.region, s.opened_date, s.updated_at)
