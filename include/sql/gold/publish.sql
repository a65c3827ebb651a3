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
begin;
{# every GOLD table gold.yml declares a publication for: the rows it replaces, then the build's #}
{% for obj in declared('gold') if obj.publish %}
{%- set p = obj.publish %}
{%- if p.get('all') %}{% set replaced = 'true' %}
{%- elif p.get('changed_customers') %}{% set replaced = p.column ~ ' in ' ~ changed_customers %}
{%- else %}{% set replaced = p.column ~ ' in ' ~ build_dates(p.build_dates) %}{% endif %}
delete from {{ ref('gold.' ~ obj.name) }} where {{ replaced }};

insert into {{ ref('gold.' ~ obj.name) }} ({{ columns('gold.' ~ obj.name) }})
select {{ columns('gold.' ~ obj.name) }} from {{ ref('gold_stage.' ~ obj.name) }};
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
