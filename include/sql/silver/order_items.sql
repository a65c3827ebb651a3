-- SILVER.ORDER_ITEMS: latest state per key (order_id, line_number) from the BRONZE partitions of the run's change set.
{% from 'silver/_merge_latest.sql' import merge_latest %}
{% set feed = contract.feed('order_items') %}
{{ merge_latest(feed, feed.table, feed.key) }}
