-- CUSTOMER_FEATURES (built in GOLD_STAGE, published whole by gold/publish.sql): the churn
-- model's inputs for every customer, as of the latest sale date in MODEL. Recomputed whole by every build (definitions in gold/_customer_features.sql and
-- docs/metrics.md).
{% from 'gold/_customer_features.sql' import customer_features %}
{% from 'gold/_purchases.sql' import data_as_of %}
delete from {{ wh.database }}.{{ wh.gold_stage }}.CUSTOMER_FEATURES;

insert into {{ wh.database }}.{{ wh.gold_stage }}.CUSTOMER_FEATURES (
    customer_id, as_of_date, segment, state, tenure_days, purchases_total, online_orders_total,
    store_visits_total, purchases_90d, purchases_prev_90d, frequency_trend, spend_total, spend_90d,
    avg_order_value, recency_days, online_share, cancel_return_share, card_share, paypal_share,
    gift_card_share, bank_transfer_share
)
{{ customer_features(data_as_of()) }}
