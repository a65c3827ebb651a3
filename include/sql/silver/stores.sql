-- SILVER.STORES: latest state per key (store_id) from the window's BRONZE rows.
{% from 'silver/_merge_latest.sql' import merge_latest %}
{% set feed = contract.feed('stores') %}
{{ merge_latest(feed, window, feed.table, feed.key) }}
