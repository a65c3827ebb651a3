-- SILVER.INVENTORY_SNAPSHOTS: latest state per key (snapshot_date, store_id, product_id) from the window's BRONZE rows.
{% from 'silver/_merge_latest.sql' import merge_latest %}
{% set feed = contract.feed('inventory_snapshots') %}
{{ merge_latest(feed, window, feed.table, feed.key) }}
