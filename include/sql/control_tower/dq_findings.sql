-- Control Tower, "checks" panel: the latest result of every check that fails for a business date
-- (a check that passed on a re-run no longer shows), by severity.
select business_date, severity, layer, check_name, table_name, observed, threshold, detail, run_id
from {{ ref('audit.V_DQ_FAILURES') }}
where business_date between %(first)s and %(last)s
order by business_date, severity, check_name, table_name
