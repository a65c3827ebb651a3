"""Pieces every DAG shares: default_args, tags, SQL template settings, the business date."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from include.alerts import OnCallFailureNotifier, RecoveryNotifier, deadline_missed
from include.config import DEADLINE_HOURS, RETRY_DELAY_SECONDS
from include.sql_render import SQL_DIR, SQL_GLOBALS

OWNER = "data-platform"
# The fixed list of tags DAGs may use.
TAGS = {"retail", "ingest", "bronze", "silver", "model", "gold", "dq", "ml", "setup"}

DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": timedelta(seconds=RETRY_DELAY_SECONDS),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    # one mail to on-call per task that failed after its last try (none for a retried try)
    "on_failure_callback": OnCallFailureNotifier(),
}

# DAG-level callbacks of the daily pipelines: a recovery notice when a date that had failed succeeds.
DAG_CALLBACKS: dict[str, Any] = {"on_success_callback": RecoveryNotifier()}


def daily_deadline() -> Any:
    """Alert on-call when a scheduled run is not finished DEADLINE_HOURS after its business day."""
    from airflow.sdk import AsyncCallback, DeadlineAlert

    from include.deadlines import ScheduledBusinessDayEnd

    return DeadlineAlert(
        reference=ScheduledBusinessDayEnd(),
        interval=timedelta(hours=DEADLINE_HOURS),
        callback=AsyncCallback(deadline_missed),
        name="daily_run_late",
    )


SQL_TEMPLATE_ARGS: dict[str, Any] = {
    "template_searchpath": [str(SQL_DIR)],
    "user_defined_macros": dict(SQL_GLOBALS),
}
