-- SILVER.PAYMENTS: latest state per key (payment_id) from the window's BRONZE rows.
{% from 'silver/_merge_latest.sql' import merge_latest %}
{% set feed = contract.feed('payments') %}
{{ merge_latest(feed, window, feed.table, feed.key) }}
