-- SILVER.ORDERS: latest state per key (order_id) from the BRONZE partitions of the run's change set.
{% from 'silver/_merge_latest.sql' import merge_latest %}
{% set feed = contract.feed('orders') %}
{{ merge_latest(feed, feed.table, feed.key) }}
