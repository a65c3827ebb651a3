-- The tries of one DAG run that have their run-log row, to write the missing ones (include/audit.py).
select task_id, map_index, try_number
from {{ ref('audit.TASK_RUN_LOG') }}
where dag_id = %(dag_id)s and run_id = %(run_id)s
