-- SILVER.CUSTOMERS: latest record per customer_id (by updated_at) from the BRONZE partitions of the run's change set.
-- e-mail addresses are compared case-insensitively downstream, so they are stored lower case.
{% from 'silver/_merge_latest.sql' import merge_latest %}
{% set feed = contract.feed('customers') %}
{{ merge_latest(feed, feed.table, feed.key, clean={'email': "lower(trim(email))", 'state': "upper(trim(state))"}) }}
