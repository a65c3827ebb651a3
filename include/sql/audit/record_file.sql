-- Upsert the ledger row of one delivered file (by feed, date and content checksum).
merge into {{ ref('audit.FILE_LOADS') }} as t
using (
    select
        %(feed)s as feed,
        %(batch_date)s::date as batch_date,
        %(file_name)s as file_name,
        %(file_md5)s as file_md5,
        %(status)s as status,
        %(reason)s as reason,
        %(source_key)s as source_key,
        %(rows_in_file)s::number as rows_in_file,
        %(rows_loaded)s::number as rows_loaded,
        %(rows_rejected)s::number as rows_rejected,
        %(run_id)s as run_id
) as s
on t.feed = s.feed and t.batch_date = s.batch_date and t.file_md5 = s.file_md5
when matched then update set
    status = s.status,
    reason = s.reason,
    source_key = s.source_key,
    rows_in_file = coalesce(s.rows_in_file, t.rows_in_file),
    rows_loaded = coalesce(s.rows_loaded, t.rows_loaded),
    rows_rejected = coalesce(s.rows_rejected, t.rows_rejected),
    -- a file recorded LATE was counted when the sweep found it: loading it later is the same delivery
    deliveries = t.deliveries + iff(t.status = 'LATE', 0, %(new_delivery)s),
    run_id = s.run_id,
    last_seen_at = current_timestamp()
when not matched then insert
    (feed, batch_date, file_name, file_md5, status, reason, source_key, rows_in_file, rows_loaded,
     rows_rejected, deliveries, run_id)
values
    (s.feed, s.batch_date, s.file_name, s.file_md5, s.status, s.reason, s.source_key, s.rows_in_file,
     s.rows_loaded, s.rows_rejected, 1, s.run_id);
