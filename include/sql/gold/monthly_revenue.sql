-- GOLD.MONTHLY_REVENUE: the months the window touches, re-aggregated from GOLD.DAILY_REVENUE
-- (published in the same transaction just before).
delete from {{ wh.database }}.{{ wh.gold }}.MONTHLY_REVENUE
where month_start between '{{ window.start_month }}' and '{{ window.end }}';

insert into {{ wh.database }}.{{ wh.gold }}.MONTHLY_REVENUE (
    month_start, channel, category, days_with_sales, units, gross_amount, discount_amount, net_revenue
)
select
    date_trunc('month', revenue_date)::date as month_start,
    channel,
    category,
    count(distinct revenue_date) as days_with_sales,
    sum(units) as units,
    sum(gross_amount) as gross_amount,
    sum(discount_amount) as discount_amount,
    sum(net_revenue) as net_revenue
from {{ wh.database }}.{{ wh.gold }}.DAILY_REVENUE
where revenue_date >= '{{ window.start_month }}' and revenue_date < '{{ window.after_end_month }}'
group by date_trunc('month', revenue_date)::date, channel, category
