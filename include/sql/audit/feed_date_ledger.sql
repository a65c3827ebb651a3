-- What the file ledger holds for one feed and business date (one row per distinct content), and
-- how many runs of that date are under way (their sensors take the inbox file themselves).
select
    f.file_md5,
    f.status,
    (
        select count(*)
        from {{ ref('audit.DAG_RUN_LOG') }} as r
        where r.dag_id = %(dag_id)s and r.business_date = %(day)s::date and r.state = 'running'
    ) as runs_under_way
from {{ ref('audit.FILE_LOADS') }} as f
where f.feed = %(feed)s and f.batch_date = %(day)s::date
