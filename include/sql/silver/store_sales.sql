-- SILVER.STORE_SALES: latest state per key (transaction_id, line_number) from the BRONZE partitions of the run's change set.
{% from 'silver/_merge_latest.sql' import merge_latest %}
{% set feed = contract.feed('store_sales') %}
{{ merge_latest(feed, feed.table, feed.key) }}
