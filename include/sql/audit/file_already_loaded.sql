-- Was this exact file (by content checksum) already loaded for its feed and business date?
select rows_loaded, rows_rejected, rows_in_file
from {{ wh.database }}.{{ wh.audit }}.FILE_LOADS
where feed = %(feed)s
  and batch_date = %(day)s
  and file_md5 = %(md5)s
  and status = 'LOADED'
