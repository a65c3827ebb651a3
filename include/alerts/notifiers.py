"""The alerts' Airflow side: the notifiers and callbacks the DAGs attach, which gather the facts of
an alert (the failed task and its run; for a sensor, which files of the date are missing in the
bucket; for a recovery, the failures the run-log holds), then have include/alerts/messages.py say
it and include/alerts/delivery.py send it.

The failure alert is attached to every task through ``default_args["on_failure_callback"]``.
Airflow calls it only when a task fails with no retry left (a try that is retried calls
``on_retry_callback`` instead), so a task that fails once and then succeeds sends nothing, and
each task that failed for good sends one alert. A recovery notice follows when a date that had
such a failure succeeds; a deadline alert when a scheduled run is late (``include.deadlines``).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from airflow.sdk import BaseNotifier

from include import business_date as run_dates
from include.alerts.delivery import asend_alert, send_alert
from include.alerts.messages import (
    SENSOR_TASK,
    build_deadline_alert,
    build_failure_alert,
    build_recovery_alert,
)
from include.config import AUDIT_CONN_ID, AWS_CONN_ID, LANDING

log = logging.getLogger(__name__)


class OnCallFailureNotifier(BaseNotifier):
    """Alerts on-call through the configured channels when a task has failed for good."""

    def notify(self, context: dict[str, Any]) -> None:
        ti = context["ti"]
        try:
            day = run_dates.from_context(context)
        except run_dates.InvalidBusinessDate:  # the alert matters more than its date
            day = None
        found = missing = None
        if (sensor := SENSOR_TASK.match(ti.task_id)) and day is not None:
            found, missing = _inbox_files_like(ti.task_id, context), _missing_feeds(day)
            if missing is not None and sensor["feed"] not in missing:
                missing = None  # its own file arrived since: this alert is about its feed alone
            if missing and missing[0] != sensor["feed"]:
                # one alert per date: the sensor of the first missing feed sends it, listing them all
                log.info("files missing for %s (%s): the alert is sent by ingest_%s.wait_for_file",
                         day, ", ".join(missing), missing[0])  # fmt: skip
                return
        alert = build_failure_alert(
            dag_id=ti.dag_id,
            task_id=ti.task_id,
            run_id=context["run_id"],
            business_date=day,
            try_number=ti.try_number,
            max_tries=_max_tries(ti),
            error=context.get("exception"),
            log_url=ti.log_url,
            found_instead=found,
            missing_feeds=missing,
            logical_date=getattr(context.get("dag_run"), "logical_date", None),
            task_ids=list(getattr(context.get("dag"), "task_ids", None) or []),
            api_base=_api_base(),
        )
        send_alert(alert, context)


class RecoveryNotifier(BaseNotifier):
    """DAG success callback: tells on-call when a date that had failed tasks has now succeeded.

    The failures come from the audit run-log (tries that failed for good, i.e. those that sent a
    FAILED alert) logged after the date's last recovery notice, so each recovery is announced once.
    """

    def notify(self, context: dict[str, Any]) -> None:
        from include.sql_render import render_sql
        from include.warehouse import snowflake_hook

        dag_run = context["dag_run"]
        day = run_dates.of_run(dag_run)
        if day is None:
            return
        params = {"dag_id": dag_run.dag_id, "business_date": day, "run_id": dag_run.run_id}
        hook = snowflake_hook("run_logger", AUDIT_CONN_ID)
        failures = hook.get_records(render_sql("audit/unannounced_failures.sql"), parameters=params)
        if not failures:
            return
        alert = build_recovery_alert(
            dag_id=dag_run.dag_id,
            business_date=day,
            run_id=dag_run.run_id,
            failures=[(task, int(try_number), error) for task, try_number, error in failures],
        )
        send_alert(alert, context)  # then record: a lost record repeats the notice, never loses it
        hook.run(
            render_sql("audit/record_recovery_notice.sql"),
            parameters={**params, "failed_tasks": ", ".join(sorted({f[0] for f in failures}))},
        )


async def deadline_missed(context: dict[str, Any] | None = None, **_: Any) -> None:
    """Deadline callback (runs in the triggerer): the scheduled run is late."""
    run = (context or {}).get("dag_run") or {}
    deadline = (context or {}).get("deadline", {}).get("deadline_time")
    alert = build_deadline_alert(
        dag_id=run.get("dag_id", "?"),
        run_id=run.get("dag_run_id") or run.get("run_id", "?"),
        business_date=run_dates.of_run(run),
        state=str(run.get("state", "?")),
        deadline=str(deadline),
    )
    await asend_alert(alert, context or {})


def _missing_feeds(day: date) -> list[str] | None:
    """Feeds (in contract order) with no file for ``day`` in the inbox or history; None if unknown."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from include.contracts import active_feeds
    from include.ingest.pipeline import candidate_keys

    try:
        s3 = S3Hook(aws_conn_id=AWS_CONN_ID)
        return [
            f for f in active_feeds(day) if not any(s3.check_for_key(k, LANDING.bucket) for k in candidate_keys(f, day))
        ]
    except Exception:  # the alert matters more than the listing: send it for this feed alone
        log.exception("could not list the missing files of %s", day)
        return None


def _inbox_files_like(task_id: str, context: dict[str, Any]) -> list[str]:
    """Inbox files of the sensor's feed (any date), to show what arrived instead."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    feed = SENSOR_TASK.match(task_id)["feed"]
    try:
        keys = S3Hook(aws_conn_id=AWS_CONN_ID).list_keys(LANDING.bucket, prefix=f"{LANDING.inbox}/{feed}_")
    except Exception as exc:  # the alert matters more than the listing
        return [f"(could not list the inbox: {type(exc).__name__})"]
    return sorted(keys)[:50]


def _api_base() -> str | None:
    """The Airflow API's address as configured (``[api] base_url``), for the REST re-run command."""
    try:
        from airflow.configuration import conf

        return conf.get("api", "base_url", fallback=None) or None
    except Exception:  # noqa: BLE001 - the alert matters more than this line of it
        return None


def _max_tries(ti: Any) -> int:
    retries = getattr(getattr(ti, "task", None), "retries", None)
    return int(retries) + 1 if retries is not None else int(ti.try_number)
