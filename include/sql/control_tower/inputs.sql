-- Control Tower, "input" panel: per business date, its completeness and every file the ledger
-- holds for it (loaded, quarantined, or waiting as LATE), with the rows it rejected. Read as the
-- control tower role: GOLD through its views, AUDIT tables. One row per file (or one per date
-- that has a completeness row but no file).
select c.business_date, c.status, c.missing_feeds, c.feeds_loaded, c.feeds_expected,
       f.feed, f.file_name, f.status as file_status, f.reason, f.rows_loaded, f.rows_rejected
from {{ ref('gold.V_DATE_COMPLETENESS') }} as c
full outer join {{ ref('audit.FILE_LOADS') }} as f on f.batch_date = c.business_date
where coalesce(c.business_date, f.batch_date) between %(first)s and %(last)s
order by coalesce(c.business_date, f.batch_date), f.feed, f.file_name
