-- MODEL.DIM_DATE: one row per calendar date; each run adds the business date, the dates of the
-- partitions in its change set and the day before each (late rows belong to it).
{% from '_changes.sql' import change_set_dates %}
merge into {{ ref('model.DIM_DATE') }} as t
using (
    select
        d as date_key,
        year(d) as year,
        quarter(d) as quarter,
        month(d) as month,
        date_trunc('month', d)::date as month_start,
        dayofmonth(d) as day_of_month,
        dayofweekiso(d) as iso_day_of_week,
        dayofweekiso(d) >= 6 as is_weekend
    from (
        {{ change_set_dates(window.end) }}
    )
) as s
on t.date_key = s.date_key
when not matched then insert (date_key, year, quarter, month, month_start, day_of_month, iso_day_of_week, is_weekend)
    values (s.date_key, s.year, s.quarter, s.month, s.month_start, s.day_of_month, s.iso_day_of_week, s.is_weekend)
