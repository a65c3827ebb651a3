-- How many churn scores the date has: monitoring skips a date without any before it loads the
-- ML libraries (seconds of a task process on every run before the first champion).
select count(*)
from {{ ref('ml.CUSTOMER_CHURN_SCORE') }}
where business_date = %(business_date)s::date
