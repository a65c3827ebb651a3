"""On-call alerts sent through Airflow notifiers (SMTP by default)."""

from __future__ import annotations

from html import escape
from typing import Any

from include.config import ALERT_EMAIL, RUNBOOK_BASE, SMTP_CONN_ID


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
