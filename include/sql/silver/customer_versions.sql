-- SILVER.CUSTOMER_VERSIONS: every distinct customer record, one row per (customer_id, updated_at).
-- The source of MODEL.DIM_CUSTOMER's SCD2 history.
{% from 'silver/_merge_latest.sql' import merge_latest %}
{% set feed = contract.feed('customers') %}
{{ merge_latest(feed, 'CUSTOMER_VERSIONS', ['customer_id', 'updated_at'], clean={'email': "lower(trim(email))", 'state': "upper(trim(state))"}) }}
