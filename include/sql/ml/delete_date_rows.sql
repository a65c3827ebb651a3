-- A re-run of a business date replaces its rows: remove them first (same transaction as the insert).
delete from {{ ref('ml.' ~ table) }} where business_date = %s::date
