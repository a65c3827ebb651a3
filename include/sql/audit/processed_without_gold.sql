-- History loader only (local/history.py, never the daily DAG): its change set is marked processed
-- and the revenue dates MODEL noted are dropped without building GOLD for them, as a warehouse
-- whose GOLD was never published for those dates. The daily DAG always publishes instead
-- (gold/publish.sql).
begin;

delete from {{ ref('model.PENDING_REVENUE_DATES') }};

update {{ ref('audit.BRONZE_PARTITIONS') }} as p
set processed_loaded_at = c.loaded_at, processed_run_id = c.run_id
from {{ ref('audit.TRANSFORM_CHANGES') }} as c
where c.run_id = %(run_id)s and c.feed = p.feed and c.batch_date = p.batch_date;

commit;
