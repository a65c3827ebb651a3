"""On-call alerts sent through Airflow notifiers: email over SMTP by default, SNS and Slack by configuration.

The failure alert is attached to every task through ``default_args["on_failure_callback"]``.
Airflow calls it only when a task fails with no retry left (a try that is retried calls
``on_retry_callback`` instead), so a task that fails once and then succeeds sends nothing, and
each task that failed for good sends one alert. A recovery notice follows when a date that had
such a failure succeeds; a deadline alert when a scheduled run is late (``include.deadlines``).

Every alert is one :class:`Alert` (subject, HTML for mail, plain text for SNS and Slack), sent
through the provider notifier of each channel in ``RETAIL_ALERT_CHANNELS``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any

from airflow.sdk import BaseNotifier

from include import business_date as run_dates
from include import operator_commands as commands
from include.config import (
    ALERT_CHANNELS,
    ALERT_EMAIL,
    ALERT_RETRY_DELAYS_SECONDS,
    ALERT_SNS_TOPIC_ARN,
    AUDIT_CONN_ID,
    AWS_CONN_ID,
    DEADLINE_HOURS,
    LANDING,
    RUNBOOK_BASE,
    SLACK_WEBHOOK_CONN_ID,
    SMTP_CONN_ID,
)
from include.runbooks import runbook_for

log = logging.getLogger(__name__)
CHANNELS = ("email", "sns", "slack")
SNS_SUBJECT_CHARS = 100  # SNS rejects longer subjects

if unknown := set(ALERT_CHANNELS) - set(CHANNELS):
    raise ValueError(f"RETAIL_ALERT_CHANNELS has unknown channel(s) {sorted(unknown)}; use {', '.join(CHANNELS)}")
if not ALERT_CHANNELS:
    raise ValueError("RETAIL_ALERT_CHANNELS is empty: on-call would never hear about a failure")
if "sns" in ALERT_CHANNELS and not ALERT_SNS_TOPIC_ARN:
    raise ValueError("RETAIL_ALERT_CHANNELS includes sns but RETAIL_ALERT_SNS_TOPIC_ARN is not set")


@dataclass(frozen=True)
class Alert:
    """One message to on-call, as HTML (mail) and plain text (SNS, Slack)."""

    subject: str
    html: str
    text: str


class _Body:
    """Builds the HTML and the plain-text body side by side, escaping every value once."""

    def __init__(self) -> None:
        self.html: list[str] = []
        self.text: list[str] = []

    def para(self, *parts: str | tuple[str, str]) -> _Body:
        """Plain strings are text; ("b"|"code", value) pairs are emphasised."""
        html, text = [], []
        for part in parts:
            if isinstance(part, tuple):
                tag, value = part
                html.append(f"<{tag}>{escape(value)}</{tag}>")
                text.append(f"*{value}*" if tag == "b" else f"`{value}`")
            else:
                html.append(escape(part))
                text.append(part)
        self.html.append(f"<p>{''.join(html)}</p>")
        self.text.append("".join(text))
        return self

    def table(self, rows: list[tuple[str, str]]) -> _Body:
        cells = "".join(f"<tr><th align='left'>{escape(k)}</th><td><code>{escape(v)}</code></td></tr>" for k, v in rows)
        self.html.append(f"<table>{cells}</table>")
        self.text.append("\n".join(f"{k}: {v}" for k, v in rows))
        return self

    def items(self, values: list[str]) -> _Body:
        self.html.append("<ul>" + "".join(f"<li><code>{escape(v)}</code></li>" for v in values) + "</ul>")
        self.text.append("\n".join(f"- {v}" for v in values))
        return self

    def pre(self, value: str) -> _Body:
        self.html.append(f"<pre>{escape(value)}</pre>")
        self.text.append(value)
        return self

    def alert(self, subject: str) -> Alert:
        return Alert(subject=subject, html="".join(self.html), text="\n\n".join(self.text))


def unrecognised_files_alert(swept: list[dict[str, str]], context: dict[str, Any]) -> Alert:
    """On-call hears about inbox files no feed can claim; they are already in quarantine."""
    ti = context["ti"]
    body = _Body().para(
        f"{len(swept)} file(s) in the partner inbox match no feed and were moved to quarantine. "
        "No business date's data is affected."
    )
    body.items([f"{s['file']}  ({s['reason']}) -> {s['quarantined_as']}" for s in swept])
    body.para("DAG ", ("code", ti.dag_id), ", task ", ("code", ti.task_id), ", run ", ("code", context["run_id"]))
    body.para("Log: ", ti.log_url)
    body.para("What to do: ", ("code", f"{RUNBOOK_BASE}/ingestion.md#sweep_inbox-found-unrecognised-files"))
    return body.alert(f"[{ti.dag_id}] {len(swept)} unrecognised partner file(s) quarantined")


def late_files_alert(late: list[dict[str, str]], context: dict[str, Any]) -> Alert:
    """On-call hears about files that arrived after their date was processed: nothing used them."""
    ti = context["ti"]
    waiting = [f for f in late if f["kind"] == "late"]
    stale = [f for f in late if f["kind"] == "stale"]
    body = _Body().para(
        f"{len(late)} partner file(s) arrived after their business date was processed. "
        "Nothing was loaded from them; the published tables do not include them."
    )
    if waiting:
        body.para("New content, waiting in the inbox. To use it, re-run its date (the delivery it replaces is "
                  "kept in history):")  # fmt: skip
        body.items([f"{f['file']}  (date {f['business_date']}, which had: {f['date_had']})" for f in waiting])
        dates = sorted({f["business_date"] for f in waiting})
        body.pre(
            "\n".join(
                commands.backfill(ti.dag_id, date.fromisoformat(d), date.fromisoformat(d), reprocess="completed")
                for d in dates
            )
        )
    if stale:
        body.para("Content the date already processed, but not its current version (an older delivery or a "
                  "quarantined file sent again), moved to quarantine:")  # fmt: skip
        body.items([f"{f['file']}  (date {f['business_date']}) -> {f['quarantined_as']}" for f in stale])
    body.para("DAG ", ("code", ti.dag_id), ", task ", ("code", ti.task_id), ", run ", ("code", context["run_id"]))
    body.para("Log: ", ti.log_url)
    body.para("What to do: ", ("code", f"{RUNBOOK_BASE}/ingestion.md#sweep_inbox-found-late-files"))
    return body.alert(f"[{ti.dag_id}] {len(late)} partner file(s) arrived after their date was processed")


def model_monitoring_alert(summary: dict[str, Any], context: dict[str, Any]) -> Alert:
    """The churn champion drifted or under-performs: the scores were written, a person decides."""
    ti = context["ti"]
    body = _Body().para(
        f"The churn model {summary['model_id']} crossed {len(summary['alerts'])} monitoring threshold(s) on "
        f"{summary['business_date']}. Its scores were written; check them before the retention team acts."
    )
    body.items(summary["alerts"])
    body.para("All measures: ", ("code", "select * from ML.MODEL_MONITORING where business_date = "
              f"'{summary['business_date']}'"))  # fmt: skip
    body.para("DAG ", ("code", ti.dag_id), ", task ", ("code", ti.task_id), ", run ", ("code", context["run_id"]))
    body.para("Log: ", ti.log_url)
    body.para("What to do: ", ("code", f"{RUNBOOK_BASE}/churn-model.md#monitor_churn_model-alerted"))
    return body.alert(f"[{ti.dag_id}] churn model {summary['model_id']}: {len(summary['alerts'])} monitoring alert(s)")


# -- channels -----------------------------------------------------------------------------------


def channel_notifiers(alert: Alert, channels: tuple[str, ...] = ALERT_CHANNELS) -> list[BaseNotifier]:
    """The provider notifier of every configured channel, carrying this alert."""
    notifiers: list[BaseNotifier] = []
    for channel in channels:
        if channel == "email":
            from airflow.providers.smtp.notifications.smtp import SmtpNotifier

            notifiers.append(
                SmtpNotifier(to=ALERT_EMAIL, subject=alert.subject, html_content=alert.html, smtp_conn_id=SMTP_CONN_ID)
            )
        elif channel == "sns":
            from airflow.providers.amazon.aws.notifications.sns import SnsNotifier

            notifiers.append(
                SnsNotifier(
                    aws_conn_id=AWS_CONN_ID,
                    target_arn=ALERT_SNS_TOPIC_ARN,
                    subject=alert.subject[:SNS_SUBJECT_CHARS],
                    message=f"{alert.subject}\n\n{alert.text}",
                )
            )
        elif channel == "slack":
            from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

            text = f"*{alert.subject}*\n{alert.text}"
            notifiers.append(SlackWebhookNotifier(slack_webhook_conn_id=SLACK_WEBHOOK_CONN_ID, text=text))
        else:
            raise ValueError(f"unknown alert channel {channel!r}")
    return notifiers


def send_alert(alert: Alert, context: Any) -> None:
    """Send through every channel; one channel failing does not stop the others (then raise).

    A failing channel is tried again after each pause of ``RETAIL_ALERT_RETRY_DELAYS_SECONDS``;
    an alert still not sent is logged whole ("alert LOST"), so the task log keeps what on-call
    should have read. Every channel's outcome (sent, or lost with its error) is a row of
    ``AUDIT.ALERT_LOG`` (lost ones: ``V_ALERTS_LOST_7D``). The task's own outcome never depends on
    its alert.

    ``notify()`` is called directly: the content is final and must not be rendered as Jinja (error
    text can contain braces).
    """
    errors = []
    for notifier in channel_notifiers(alert):
        channel = type(notifier).__name__
        for attempt, pause in enumerate((*ALERT_RETRY_DELAYS_SECONDS, None), start=1):
            try:
                notifier.notify(context)
                _record(alert, context, channel, "sent", attempt, None)
                break
            except Exception as exc:
                if pause is None:
                    lost = "alert LOST after %d tries through %s: %s\n%s"
                    log.exception(lost, attempt, channel, alert.subject, alert.text)
                    _record(alert, context, channel, "lost", attempt, f"{type(exc).__name__}: {exc}")
                    errors.append(exc)
                else:
                    log.warning("alert %r not sent through %s (try %d): %s; again in %g s", alert.subject, channel,
                                attempt, exc, pause)  # fmt: skip
                    _pause(pause)
    if errors:
        raise errors[0]


def _record(alert: Alert, context: Any, channel: str, status: str, tries: int, error: str | None) -> None:
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


def _pause(seconds: float) -> None:
    time.sleep(seconds)


async def asend_alert(alert: Alert, context: Any) -> None:
    """Like :func:`send_alert`, for the triggerer (deadline callbacks run there)."""
    await asyncio.to_thread(send_alert, alert, context)


ERROR_LINES = 12
SENSOR_TASK = re.compile(r"^ingest_(?P<feed>[a-z_]+)\.wait_for_file$")


def _rerun_commands(
    dag_id: str,
    task_id: str,
    run_id: str,
    day: date | None,
    logical_date: datetime | None,
    task_ids: list[str] | None,
    api_base: str | None,
) -> list[tuple[str, str]]:
    """How to re-run the failed task (and what depends on it) in its run, or the whole date.

    Built by include.operator_commands, whose integration test executes them on the local stack.
    """
    rows: list[tuple[str, str]] = []
    when = f"run {run_id}" + (f", logical date {logical_date.isoformat()}" if logical_date else "")
    try:
        rows.append((f"CLI ({when})", commands.clear_task(dag_id, task_id, logical_date, task_ids or [task_id])))
    except commands.NoCliCommand as exc:
        rows.append(("CLI", f"none: {exc}; use the REST call or the UI"))
    if api_base:
        rows.append((f"REST ({when})", commands.clear_task_api(api_base, dag_id, run_id, task_id)))
    if day is not None:
        rows.append(
            (f"or the whole business date {day.isoformat()}", commands.backfill(dag_id, day, day, reprocess="failed"))
        )
    return rows


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
    missing_feeds: list[str] | None = None,
    logical_date: datetime | None = None,
    task_ids: list[str] | None = None,
    api_base: str | None = None,
) -> Alert:
    """Subject and body of the alert for a task that failed for good (pure: unit-tested).

    ``logical_date`` (the run's), ``task_ids`` (the DAG's) and ``api_base`` (the Airflow API's
    address) make the re-run commands select exactly this run and task.

    For a sensor that timed out, ``missing_feeds`` lists every feed of the date whose file is
    missing: one alert covers them all (the other feeds' sensors send none).
    """
    error_class = type(error).__name__ if isinstance(error, BaseException) else "error"
    lines = str(error or "no exception recorded (the task was failed externally or timed out)").splitlines()
    first_lines = "\n".join(lines[:ERROR_LINES]) + ("\n..." if len(lines) > ERROR_LINES else "")
    day = business_date.isoformat() if business_date else "n/a"
    body = _Body().para("A task of ", ("b", dag_id), " failed for business date ", ("b", day), " after its last try.")
    if m := SENSOR_TASK.match(task_id):
        feeds = missing_feeds or [m["feed"]]
        expected = [LANDING.inbox_key(f"{feed}_{day.replace('-', '')}.csv") for feed in feeds]
        body.para(
            ("b", f"Missing file(s): {len(feeds)}"),
            f" for business date {day} (this is the only alert for them):",
        )
        body.items(expected)
        body.para(f"Found in the inbox for feed {m['feed']} instead:")
        body.items(found_instead or ["nothing"])
    body.table(
        [
            ("DAG", dag_id),
            ("task", task_id),
            ("business date", day),
            ("run", run_id),
            ("try", f"{try_number} of {max_tries} (no retry left)"),
            ("error", error_class),
        ]
    )
    body.para(("b", "Error"), " (first lines; failing data-quality checks are listed here when a gate failed):")
    body.pre(first_lines)
    body.para(("b", "Log: "), log_url)
    body.para(("b", "Runbook: "), ("code", runbook_for(task_id)))
    body.para(
        ("b", "Re-run after fixing"),
        f" - UI: DAGs > {dag_id} > Runs > {run_id} > Task {task_id} > Clear (with Downstream)",
    )
    body.table(_rerun_commands(dag_id, task_id, run_id, business_date, logical_date, task_ids, api_base))
    if missing_feeds and len(missing_feeds) > 1:
        return body.alert(f"[{dag_id}] FAILED {len(missing_feeds)} files missing for {day}: {', '.join(missing_feeds)}")
    return body.alert(f"[{dag_id}] FAILED {task_id} for {day} ({error_class})")


def build_recovery_alert(
    *, dag_id: str, business_date: date, run_id: str, failures: list[tuple[str, int, str | None]]
) -> Alert:
    """A date that had failed tasks has now succeeded. ``failures``: (task, try, error class)."""
    day = business_date.isoformat()
    body = _Body().para(
        ("b", dag_id),
        " succeeded for business date ",
        ("b", day),
        " (run ",
        ("code", run_id),
        "). It had failed before; no action is needed for these failures any more:",
    )
    body.items([f"{task} try {try_number} ({error or 'failed'})" for task, try_number, error in failures])
    body.para("Run history: ", ("code", "AUDIT.TASK_RUN_LOG"), " and ", ("code", "AUDIT.DAG_RUN_LOG"), ".")
    return body.alert(f"[{dag_id}] RECOVERED {day}")


def build_deadline_alert(*, dag_id: str, run_id: str, business_date: date | None, state: str, deadline: str) -> Alert:
    """A scheduled daily run has not finished in time."""
    day = business_date.isoformat() if business_date else "n/a"
    body = _Body().para(
        ("b", dag_id),
        " has not finished business date ",
        ("b", day),
        f" {DEADLINE_HOURS:g} hours after the day ended: GOLD for that date is not published yet.",
    )
    body.table([("DAG", dag_id), ("run", run_id), ("business date", day), ("run state", state), ("deadline", deadline)])
    body.para(
        "Look for a task waiting on a partner file (sensor), a queue that is not moving, or a failed task. Runbook: ",
        ("code", f"{RUNBOOK_BASE}/on-call.md#late-the-daily-run-has-not-finished-deadline-alert"),
    )
    body.para(f"UI: DAGs > {dag_id} > Runs > {run_id}")
    return body.alert(f"[{dag_id}] LATE {day}: not finished {DEADLINE_HOURS:g}h after the business day")


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

    from include.contracts import FEED_NAMES
    from include.ingest.pipeline import candidate_keys

    try:
        s3 = S3Hook(aws_conn_id=AWS_CONN_ID)
        return [f for f in FEED_NAMES if not any(s3.check_for_key(k, LANDING.bucket) for k in candidate_keys(f, day))]
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
