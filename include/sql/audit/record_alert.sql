-- One alert's outcome on one channel (an event log: each alert sent is one row).
insert into {{ ref('audit.ALERT_LOG') }}
    (dag_id, task_id, run_id, subject, channel, status, tries, error_message, hostname)
values (
    %(dag_id)s, %(task_id)s, %(run_id)s, %(subject)s, %(channel)s, %(status)s, %(tries)s, %(error_message)s,
    %(hostname)s
)
