-- The as-of date of the published customer tables (GOLD.CUSTOMER_AS_OF, one row once published).
select as_of_date from {{ ref('gold.CUSTOMER_AS_OF') }}
