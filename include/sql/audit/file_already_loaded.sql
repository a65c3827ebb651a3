-- Was this exact file (by content checksum) already loaded for its feed and business date? With
-- how many other contents first loaded for that date after it (its replacements).
select
    f.rows_loaded,
    f.rows_rejected,
    f.rows_in_file,
    (
        select count(*)
        from {{ ref('audit.FILE_LOADS') }} as n
        where n.feed = f.feed
          and n.batch_date = f.batch_date
          and n.status = 'LOADED'
          and n.file_md5 <> f.file_md5
          and n.first_seen_at > f.first_seen_at
    ) as replaced_since
from {{ ref('audit.FILE_LOADS') }} as f
where f.feed = %(feed)s
  and f.batch_date = %(day)s
  and f.file_md5 = %(md5)s
  and f.status = 'LOADED'
