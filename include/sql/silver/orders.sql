-- SILVER.ORDERS: latest state per key (order_id) from the window's BRONZE rows.
{% from 'silver/_merge_latest.sql' import merge_latest %}
{% set feed = contract.feed('orders') %}
{{ merge_latest(feed, window, feed.table, feed.key) }}
