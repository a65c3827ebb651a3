-- The run-log rows of one DAG run, to settle what its tries could not write (include/audit.py).
select task_id, map_index, try_number, state
from {{ wh.database }}.{{ wh.audit }}.TASK_RUN_LOG
where dag_id = %(dag_id)s and run_id = %(run_id)s
