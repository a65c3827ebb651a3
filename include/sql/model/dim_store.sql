-- MODEL.DIM_STORE (SCD1): the latest SILVER record of every store changed in the run's change set.
-- GOLD shows each store line under its store's current state: the dates with sales of a store that
-- is new or whose state changes are noted for GOLD first (a separate statement: the stand-in cannot
-- run a MERGE in a transaction that already wrote; noting a date twice is harmless).
{% from '_changes.sql' import changed_batches %}
{% from 'model/_customer_activity.sql' import add_pending_dates %}
{% call add_pending_dates('dim_store') %}
    with changed as (
        select s.store_id
        from {{ ref('silver.STORES') }} as s
        left join {{ ref('model.DIM_STORE') }} as d on d.store_id = s.store_id
        where s._batch_date in {{ changed_batches('stores') }}
            and (d.store_id is null or d.state is distinct from s.state)
    )

    select sold_date as revenue_date
    from {{ ref('model.FCT_STORE_SALES') }}
    where store_id in (select store_id from changed)
{%- endcall %};

merge into {{ ref('model.DIM_STORE') }} as t
using (
    select store_id, store_name, store_type, city, state, region, opened_date, updated_at
    from {{ ref('silver.STORES') }}
    where _batch_date in {{ changed_batches('stores') }}
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
