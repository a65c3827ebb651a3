-- GOLD.PUBLICATIONS: the log row of this publication (committed with the data it describes).
insert into {{ wh.database }}.{{ wh.gold }}.PUBLICATIONS (
    business_date, window_start, window_end, run_id, daily_revenue_rows, customer_rows
)
select
    '{{ window.end }}'::date,
    '{{ window.start }}'::date,
    '{{ window.end }}'::date,
    %(run_id)s,
    (select count(*) from {{ wh.database }}.{{ wh.gold }}.DAILY_REVENUE
     where revenue_date between '{{ window.start }}' and '{{ window.end }}'),
    (select count(*) from {{ wh.database }}.{{ wh.gold }}.CUSTOMER_FEATURES)
