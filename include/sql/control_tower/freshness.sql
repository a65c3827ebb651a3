-- Control Tower, "GOLD freshness" panel: each GOLD table's newest date against its SLA.
select table_name, newest_date, sla_days, age_days, status
from {{ ref('gold.V_FRESHNESS') }}
order by table_name
