"""What became of each alert: one row per channel in AUDIT.ALERT_LOG (sent, or lost with its error;
lost ones are in ``AUDIT.V_ALERTS_LOST_7D`` and on the Control Tower page)."""

from __future__ import annotations

from typing import Any

from include.alerts.messages import Alert


def record(alert: Alert, context: Any, channel: str, status: str, tries: int, error: str | None) -> None:
    """AUDIT.ALERT_LOG: what became of the alert on this channel (a lost one is findable there)."""
    from include import audit

    ti, dag_run = _get(context, "ti"), _get(context, "dag_run")
    audit.record_alert(
        audit.AlertOutcome(
            dag_id=getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", None),
            task_id=getattr(ti, "task_id", None),
            run_id=getattr(ti, "run_id", None) or getattr(dag_run, "run_id", None) or _get(context, "run_id"),
            subject=alert.subject,
            channel=channel,
            status=status,
            tries=tries,
            error_message=error[: audit.ERROR_MESSAGE_CHARS] if error else None,
            hostname=audit.this_host(),
        )
    )


def _get(context: Any, key: str) -> Any:
    try:
        return context.get(key)
    except AttributeError:
        return None
