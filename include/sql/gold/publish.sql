-- GOLD write-audit-publish, step 3 (publish): copy the audited build from GOLD_STAGE into the
-- published GOLD tables, in one transaction: the dates and months the build covers
-- (GOLD_STAGE.BUILD_DATES), the customers whose rows it rebuilt (GOLD_STAGE.CUSTOMER_CHANGES: the
-- rows of the RFM and feature views) and the views' as-of date. A reader sees either the
-- previous publication or this one. The operator first checks (gold/publish_guard.sql) that
-- GOLD_STAGE holds this run's build and that its critical checks passed. In the same transaction
-- the build's revenue dates stop being pending and the run's change set is marked processed, so
-- the next run starts from what changed after it. Publishing the same build again gives the same
-- tables.
{% from '_changes.sql' import build_dates %}
{%- set changed_customers = '(select customer_id from ' ~ ref('gold_stage.CUSTOMER_CHANGES') ~ ')' -%}
{#- table: (the rows of GOLD it replaces, its columns) -#}
{%- set tables = {
    'DAILY_REVENUE': ('revenue_date in ' ~ build_dates('revenue'),
        'revenue_date, channel, category, state, orders, units, gross_amount, discount_amount, net_revenue'),
    'MONTHLY_REVENUE': ('month_start in ' ~ build_dates('month'),
        'month_start, channel, category, days_with_sales, units, gross_amount, discount_amount, net_revenue'),
    'DAILY_KPI': ('revenue_date in ' ~ build_dates('revenue'),
        'revenue_date, channel, orders, customers, units, gross_amount, discount_amount, net_revenue, avg_order_value'),
    'MONTHLY_KPI': ('month_start in ' ~ build_dates('month'),
        'month_start, channel, orders, customers, days_with_sales, units, gross_amount, discount_amount, net_revenue, '
        ~ 'avg_order_value'),
    'DATE_COMPLETENESS': ('business_date in ' ~ build_dates('completeness'),
        'business_date, status, feeds_loaded, feeds_expected, missing_feeds, next_day_feeds_loaded'),
    'CUSTOMER_AS_OF': ('true', 'as_of_date'),
    'CUSTOMER_RFM_BASE': ('customer_id in ' ~ changed_customers,
        'customer_id, last_purchase_date, frequency, monetary'),
    'CUSTOMER_FEATURES_BASE': ('customer_id in ' ~ changed_customers,
        'customer_id, segment, state, signup_date, last_purchase_date, purchases_total, online_orders_total, '
        ~ 'store_visits_total, purchases_90d, purchases_prev_90d, frequency_trend, spend_total, spend_90d, '
        ~ 'avg_order_value, online_share, cancel_return_share, card_share, paypal_share, gift_card_share, '
        ~ 'bank_transfer_share'),
} %}
begin;
{% for table, (replaced, columns) in tables.items() %}
delete from {{ ref('gold.' ~ table) }} where {{ replaced }};

insert into {{ ref('gold.' ~ table) }} ({{ columns }})
select {{ columns }} from {{ ref('gold_stage.' ~ table) }};
{% endfor %}
insert into {{ ref('gold.PUBLICATIONS') }} (
    business_date, window_start, window_end, run_id, daily_revenue_rows, customer_rows
)
select b.business_date, b.window_start, b.window_end, %(run_id)s,
    (select count(*) from {{ ref('gold_stage.DAILY_REVENUE') }}),
    (select count(*) from {{ ref('gold_stage.CUSTOMER_CHANGES') }})
from {{ ref('gold_stage.BUILD') }} as b;

delete from {{ ref('model.PENDING_REVENUE_DATES') }}
where revenue_date in {{ build_dates('revenue') }};

delete from {{ ref('model.PENDING_CUSTOMERS') }}
where customer_id in {{ changed_customers }};

update {{ ref('audit.BRONZE_PARTITIONS') }} as p
set processed_loaded_at = c.loaded_at, processed_run_id = c.run_id
from {{ ref('audit.TRANSFORM_CHANGES') }} as c
where c.run_id = %(run_id)s and c.feed = p.feed and c.batch_date = p.batch_date;

update {{ ref('gold_stage.BUILD') }} set published_at = current_timestamp() where run_id = %(run_id)s;

commit;
