-- GOLD write-audit-publish, step 1 (write): build what changed since the last publication in
-- GOLD_STAGE, in one transaction, and say whose build it is. GOLD_STAGE holds exactly one build:
-- the latest. The published tables are not touched; gold/publish.sql copies the build once its
-- checks passed. Runs under the transform lock (one run at a time), so nothing changes MODEL
-- meanwhile. What it covers (GOLD_STAGE.BUILD_DATES, docs/architecture.md):
--   revenue       the dates MODEL noted as changed and no publication has covered yet
--   month         the months of those dates
--   completeness  the business date, and each date of the change set's partitions and the day
--                 before it (a date is complete once its next day's feeds loaded)
-- The customer tables: the rows of the customers the change set or the moved as-of date changed
-- (gold/customer_changes.sql), from MODEL's customer activity aggregates.
{% from '_changes.sql' import change_set_dates %}
begin;

delete from {{ ref('gold_stage.BUILD_DATES') }};

insert into {{ ref('gold_stage.BUILD_DATES') }} (kind, business_date)
select distinct 'revenue', revenue_date from {{ ref('model.PENDING_REVENUE_DATES') }};

insert into {{ ref('gold_stage.BUILD_DATES') }} (kind, business_date)
select distinct 'month', date_trunc('month', business_date)::date from {{ ref('gold_stage.BUILD_DATES') }} where kind = 'revenue';

insert into {{ ref('gold_stage.BUILD_DATES') }} (kind, business_date)
select distinct 'completeness', d
from (
    {{ change_set_dates(window.end) }}
);

-- each GOLD table's build file (gold.yml, built_by), in the declared order
{% for file in declared('gold') | map(attribute='built_by') | select | unique %}
{% include file %};

{% endfor %}
delete from {{ ref('gold_stage.BUILD') }};

-- window_start / window_end: the first and last date the build covers
insert into {{ ref('gold_stage.BUILD') }} (run_id, business_date, window_start, window_end)
select %(run_id)s, '{{ window.end }}'::date, min(business_date), max(business_date)
from {{ ref('gold_stage.BUILD_DATES') }}
where kind in ('revenue', 'completeness');

commit;
