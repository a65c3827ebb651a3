"""On-call alerts sent through Airflow notifiers (SMTP by default).

The failure alert is attached to every task through ``default_args["on_failure_callback"]``.
Airflow calls it only when a task fails with no retry left (a try that is retried calls
``on_retry_callback`` instead), so a task that fails once and then succeeds sends nothing, and
each task that failed for good sends one alert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from airflow.sdk import BaseNotifier

from include.config import ALERT_EMAIL, AWS_CONN_ID, LANDING, RUNBOOK_BASE, SMTP_CONN_ID


def unrecognised_files_notifier(swept: list[dict[str, str]], context: dict[str, Any]) -> Any:
    """Mail on-call about inbox files no feed can claim; they are already in quarantine."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    ti = context["ti"]
    rows = "".join(
        f"<tr><td><code>{escape(s['file'])}</code></td><td>{escape(s['reason'])}</td>"
        f"<td><code>{escape(s['quarantined_as'])}</code></td></tr>"
        for s in swept
    )
    html = (
        f"<p>{len(swept)} file(s) in the partner inbox match no feed and were moved to quarantine. "
        "No business date's data is affected.</p>"
        f"<table><tr><th>file</th><th>reason</th><th>quarantined as</th></tr>{rows}</table>"
        f"<p>DAG <code>{escape(ti.dag_id)}</code>, task <code>{escape(ti.task_id)}</code>, "
        f"run <code>{escape(context['run_id'])}</code>. Log: {escape(ti.log_url)}</p>"
        f"<p>What to do: {escape(RUNBOOK_BASE)}/ingestion.md#sweep_inbox-found-unrecognised-files</p>"
    )
    return SmtpNotifier(
        to=ALERT_EMAIL,
        subject=f"[retail_daily] {len(swept)} unrecognised partner file(s) quarantined",
        html_content=html,
        smtp_conn_id=SMTP_CONN_ID,
    )


ERROR_LINES = 12
SENSOR_TASK = re.compile(r"^ingest_(?P<feed>[a-z_]+)\.wait_for_file$")


@dataclass(frozen=True)
class FailureAlert:
    subject: str
    html: str


def runbook_for(task_id: str) -> str:
    """The runbook section on-call should open for a failed task."""
    if m := SENSOR_TASK.match(task_id):
        return f"{RUNBOOK_BASE}/ingestion.md#ingest_feedwait_for_file-failed-sensor-timed-out ({m['feed']})"
    if task_id.startswith("ingest_"):
        return f"{RUNBOOK_BASE}/ingestion.md#ingest_feedload_feed-failed-quarantined-"
    if task_id == "sweep_inbox":
        return f"{RUNBOOK_BASE}/ingestion.md#sweep_inbox-found-unrecognised-files"
    if task_id == "transform_window":
        return f"{RUNBOOK_BASE}/transforms.md#transform_window-failed"
    return f"{RUNBOOK_BASE}/README.md#{task_id}"


def build_failure_alert(
    *,
    dag_id: str,
    task_id: str,
    run_id: str,
    business_date: date | None,
    try_number: int,
    max_tries: int,
    error: BaseException | str | None,
    log_url: str,
    found_instead: list[str] | None = None,
) -> FailureAlert:
    """Subject and HTML body of the alert (pure: unit-tested without Airflow)."""
    error_class = type(error).__name__ if isinstance(error, BaseException) else "error"
    lines = str(error or "no exception recorded (the task was failed externally or timed out)").splitlines()
    first_lines = "\n".join(lines[:ERROR_LINES]) + ("\n..." if len(lines) > ERROR_LINES else "")
    day = business_date.isoformat() if business_date else "n/a"
    clear = f"airflow tasks clear {dag_id} -t '^{re.escape(task_id)}$' -s {day} -e {day} --downstream -y"
    backfill = (
        f"airflow backfill create --dag-id {dag_id} --from-date {day} --to-date {day} --reprocess-behavior failed"
    )
    ui_path = f"DAGs > {dag_id} > Runs > {run_id} > Task {task_id} > Clear (with Downstream)"
    missing = ""
    if m := SENSOR_TASK.match(task_id):
        feed = m["feed"]
        names = "".join(f"<li><code>{escape(k)}</code></li>" for k in found_instead or []) or "<li>nothing</li>"
        expected = LANDING.inbox_key(f"{feed}_{day.replace('-', '')}.csv")
        missing = (
            f"<p><b>Missing file:</b> no <code>{escape(expected)}"
            f"</code> arrived for feed <b>{escape(feed)}</b>, business date {day}. "
            f"Found in the inbox for this feed instead:</p><ul>{names}</ul>"
        )
    rows = [
        ("DAG", dag_id),
        ("task", task_id),
        ("business date", day),
        ("run", run_id),
        ("try", f"{try_number} of {max_tries} (no retry left)"),
        ("error", error_class),
    ]
    table = "".join(f"<tr><th align='left'>{k}</th><td><code>{escape(str(v))}</code></td></tr>" for k, v in rows)
    html = (
        f"<p>A task of <b>{escape(dag_id)}</b> failed for business date <b>{day}</b> after its last try.</p>"
        f"{missing}<table>{table}</table>"
        f"<p><b>Error</b> (first lines; failing data-quality checks are listed here when a gate failed):</p>"
        f"<pre>{escape(first_lines)}</pre>"
        f"<p><b>Log:</b> <a href='{escape(log_url)}'>{escape(log_url)}</a></p>"
        f"<p><b>Runbook:</b> <code>{escape(runbook_for(task_id))}</code></p>"
        f"<p><b>Re-run after fixing</b> - UI: {escape(ui_path)}<br>"
        f"CLI: <code>{escape(clear)}</code><br>"
        f"or the whole date: <code>{escape(backfill)}</code></p>"
    )
    subject = f"[{dag_id}] FAILED {task_id} for {day} ({error_class})"
    return FailureAlert(subject=subject, html=html)


class OnCallFailureNotifier(BaseNotifier):
    """Mails on-call (SMTP connection ``RETAIL_SMTP_CONN_ID``) when a task has failed for good."""

    def notify(self, context: dict[str, Any]) -> None:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        ti = context["ti"]
        interval_start = context.get("data_interval_start") or context.get("logical_date")
        found = _inbox_files_like(ti.task_id, context) if SENSOR_TASK.match(ti.task_id) else None
        alert = build_failure_alert(
            dag_id=ti.dag_id,
            task_id=ti.task_id,
            run_id=context["run_id"],
            business_date=interval_start.date() if interval_start else None,
            try_number=ti.try_number,
            max_tries=_max_tries(ti),
            error=context.get("exception"),
            log_url=ti.log_url,
            found_instead=found,
        )
        SmtpNotifier(to=ALERT_EMAIL, subject=alert.subject, html_content=alert.html, smtp_conn_id=SMTP_CONN_ID).notify(
            context
        )


def _inbox_files_like(task_id: str, context: dict[str, Any]) -> list[str]:
    """Inbox files of the sensor's feed (any date), to show what arrived instead."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    feed = SENSOR_TASK.match(task_id)["feed"]
    try:
        keys = S3Hook(aws_conn_id=AWS_CONN_ID).list_keys(LANDING.bucket, prefix=f"{LANDING.inbox}/{feed}_")
    except Exception as exc:  # the alert matters more than the listing
        return [f"(could not list the inbox: {type(exc).__name__})"]
    return sorted(keys)[:50]


def _max_tries(ti: Any) -> int:
    retries = getattr(getattr(ti, "task", None), "retries", None)
    return int(retries) + 1 if retries is not None else int(ti.try_number)
