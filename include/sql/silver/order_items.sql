-- SILVER.ORDER_ITEMS: latest state per key (order_id, line_number) from the window's BRONZE rows.
{% from 'silver/_merge_latest.sql' import merge_latest %}
{% set feed = contract.feed('order_items') %}
{{ merge_latest(feed, window, feed.table, feed.key) }}
