-- SILVER.INVENTORY_SNAPSHOTS: latest state per key (snapshot_date, store_id, product_id) from the BRONZE partitions of the run's change set.
{% from 'silver/_merge_latest.sql' import merge_latest %}
{% set feed = contract.feed('inventory_snapshots') %}
{{ merge_latest(feed, feed.table, feed.key) }}
