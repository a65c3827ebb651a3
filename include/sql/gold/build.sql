-- GOLD write-audit-publish, step 1 (write): build the window's GOLD in GOLD_STAGE, in one
-- transaction, and say whose build it is. GOLD_STAGE holds exactly one build: the latest. The
-- published tables are not touched; gold/publish.sql copies the build once its checks passed.
-- Runs under the transform lock (one run at a time), so nothing changes MODEL meanwhile.
begin;

{% include 'gold/daily_revenue.sql' %};

{% include 'gold/monthly_revenue.sql' %};

{% include 'gold/daily_kpi.sql' %};

{% include 'gold/monthly_kpi.sql' %};

{% include 'gold/date_completeness.sql' %};

{% include 'gold/customer_rfm.sql' %};

{% include 'gold/customer_features.sql' %};

delete from {{ wh.database }}.{{ wh.gold_stage }}.BUILD;

insert into {{ wh.database }}.{{ wh.gold_stage }}.BUILD (run_id, business_date, window_start, window_end)
values (%(run_id)s, '{{ window.end }}', '{{ window.start }}', '{{ window.end }}');

commit;
