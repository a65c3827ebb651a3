{% from '_changes.sql' import changed_batches %}
-- MODEL.FCT_INVENTORY_SNAPSHOT: end-of-day stock per store and product, upserted from the
-- snapshots that changed in the run's change set.
merge into {{ ref('model.FCT_INVENTORY_SNAPSHOT') }} as t
using (
    select
        snapshot_date, store_id, product_id, on_hand_qty, on_order_qty, reorder_point,
        on_hand_qty < reorder_point as below_reorder_point
    from {{ ref('silver.INVENTORY_SNAPSHOTS') }}
    where _batch_date in {{ changed_batches('inventory_snapshots') }}
) as s
on t.snapshot_date = s.snapshot_date and t.store_id = s.store_id and t.product_id = s.product_id
when matched then update set
    on_hand_qty = s.on_hand_qty,
    on_order_qty = s.on_order_qty,
    reorder_point = s.reorder_point,
    below_reorder_point = s.below_reorder_point
when not matched then insert (
    snapshot_date, store_id, product_id, on_hand_qty, on_order_qty, reorder_point, below_reorder_point
) values (
    s.snapshot_date, s.store_id, s.product_id, s.on_hand_qty, s.on_order_qty, s.reorder_point,
    s.below_reorder_point
)
