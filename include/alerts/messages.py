"""What an alert says: its subject, its HTML for mail and its plain text for SNS and Slack. Pure
functions of the facts they are given (unit-tested without Airflow, a network or a warehouse);
include/alerts/notifiers.py gathers the facts, include/alerts/delivery.py sends the result."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any

from include import operator_commands as commands
from include import runbooks
from include.config import DEADLINE_HOURS, LANDING


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
    body.para("What to do: ", ("code", runbooks.link(runbooks.UNRECOGNISED_FILES)))
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
    body.para("What to do: ", ("code", runbooks.link(runbooks.LATE_FILES)))
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
    body.para("What to do: ", ("code", runbooks.link(runbooks.MODEL_MONITORING)))
    return body.alert(f"[{ti.dag_id}] churn model {summary['model_id']}: {len(summary['alerts'])} monitoring alert(s)")


ERROR_LINES = 12
SENSOR_TASK = re.compile(r"^ingest_(?P<feed>[a-z_]+)\.wait_for_file$")


def rerun_commands(
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
    body.para(("b", "Runbook: "), ("code", runbooks.runbook_for(task_id)))
    body.para(
        ("b", "Re-run after fixing"),
        f" - UI: DAGs > {dag_id} > Runs > {run_id} > Task {task_id} > Clear (with Downstream)",
    )
    body.table(rerun_commands(dag_id, task_id, run_id, business_date, logical_date, task_ids, api_base))
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
        ("code", runbooks.link(runbooks.LATE_RUN)),
    )
    body.para(f"UI: DAGs > {dag_id} > Runs > {run_id}")
    return body.alert(f"[{dag_id}] LATE {day}: not finished {DEADLINE_HOURS:g}h after the business day")
