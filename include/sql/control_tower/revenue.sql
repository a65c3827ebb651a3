-- Control Tower, chart: net revenue and orders per day, all channels (GOLD's published view).
select revenue_date, orders, net_revenue, completeness
from {{ ref('gold.V_KPI_DAILY_REVENUE') }}
where channel = 'all' and revenue_date between %(first)s and %(last)s
order by revenue_date
