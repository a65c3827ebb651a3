-- GOLD write-audit-publish, step 3 (publish): copy the audited build from GOLD_STAGE into the
-- published GOLD tables, in one transaction: the window's days (revenue, KPIs, completeness), the
-- months it touches, and the whole RFM and feature tables. A reader sees either the previous publication or this one.
-- The operator first checks (gold/publish_guard.sql) that GOLD_STAGE holds this run's build and
-- that its critical checks passed. Publishing the same build again gives the same tables.
{%- set g = wh.database ~ '.' ~ wh.gold -%}
{%- set s = wh.database ~ '.' ~ wh.gold_stage %}
begin;

delete from {{ g }}.DAILY_REVENUE
where revenue_date between '{{ window.start }}' and '{{ window.end }}';

insert into {{ g }}.DAILY_REVENUE (
    revenue_date, channel, category, state, orders, units, gross_amount, discount_amount, net_revenue
)
select revenue_date, channel, category, state, orders, units, gross_amount, discount_amount, net_revenue
from {{ s }}.DAILY_REVENUE;

delete from {{ g }}.MONTHLY_REVENUE
where month_start between '{{ window.start_month }}' and '{{ window.end }}';

insert into {{ g }}.MONTHLY_REVENUE (
    month_start, channel, category, days_with_sales, units, gross_amount, discount_amount, net_revenue
)
select month_start, channel, category, days_with_sales, units, gross_amount, discount_amount, net_revenue
from {{ s }}.MONTHLY_REVENUE;

delete from {{ g }}.DAILY_KPI
where revenue_date between '{{ window.start }}' and '{{ window.end }}';

insert into {{ g }}.DAILY_KPI (
    revenue_date, channel, orders, customers, units, gross_amount, discount_amount, net_revenue, avg_order_value
)
select revenue_date, channel, orders, customers, units, gross_amount, discount_amount, net_revenue, avg_order_value
from {{ s }}.DAILY_KPI;

delete from {{ g }}.MONTHLY_KPI
where month_start between '{{ window.start_month }}' and '{{ window.end }}';

insert into {{ g }}.MONTHLY_KPI (
    month_start, channel, orders, customers, days_with_sales, units, gross_amount, discount_amount, net_revenue,
    avg_order_value
)
select
    month_start, channel, orders, customers, days_with_sales, units, gross_amount, discount_amount, net_revenue,
    avg_order_value
from {{ s }}.MONTHLY_KPI;

delete from {{ g }}.DATE_COMPLETENESS
where business_date between '{{ window.start }}' and '{{ window.end }}';

insert into {{ g }}.DATE_COMPLETENESS (
    business_date, status, feeds_loaded, feeds_expected, missing_feeds, next_day_feeds_loaded
)
select business_date, status, feeds_loaded, feeds_expected, missing_feeds, next_day_feeds_loaded
from {{ s }}.DATE_COMPLETENESS;

delete from {{ g }}.CUSTOMER_RFM;

insert into {{ g }}.CUSTOMER_RFM (
    customer_id, as_of_date, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_segment
)
select customer_id, as_of_date, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_segment
from {{ s }}.CUSTOMER_RFM;

delete from {{ g }}.CUSTOMER_FEATURES;

insert into {{ g }}.CUSTOMER_FEATURES (
    customer_id, as_of_date, segment, state, tenure_days, purchases_total, online_orders_total,
    store_visits_total, purchases_90d, purchases_prev_90d, frequency_trend, spend_total, spend_90d,
    avg_order_value, recency_days, online_share, cancel_return_share, card_share, paypal_share,
    gift_card_share, bank_transfer_share
)
select
    customer_id, as_of_date, segment, state, tenure_days, purchases_total, online_orders_total,
    store_visits_total, purchases_90d, purchases_prev_90d, frequency_trend, spend_total, spend_90d,
    avg_order_value, recency_days, online_share, cancel_return_share, card_share, paypal_share,
    gift_card_share, bank_transfer_share
from {{ s }}.CUSTOMER_FEATURES;

insert into {{ g }}.PUBLICATIONS (
    business_date, window_start, window_end, run_id, daily_revenue_rows, customer_rows
)
select
    '{{ window.end }}'::date, '{{ window.start }}'::date, '{{ window.end }}'::date, %(run_id)s,
    (select count(*) from {{ s }}.DAILY_REVENUE),
    (select count(*) from {{ s }}.CUSTOMER_FEATURES);

update {{ s }}.BUILD set published_at = current_timestamp() where run_id = %(run_id)s;

commit;
