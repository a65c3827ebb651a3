-- SILVER.STORES: latest state per key (store_id) from the BRONZE partitions of the run's change set.
{% from 'silver/_merge_latest.sql' import merge_latest %}
{% set feed = contract.feed('stores') %}
{{ merge_latest(feed, feed.table, feed.key) }}
