-- SILVER.PRODUCTS: latest state per key (product_id) from the window's BRONZE rows.
{% from 'silver/_merge_latest.sql' import merge_latest %}
{% set feed = contract.feed('products') %}
{{ merge_latest(feed, window, feed.table, feed.key) }}
