"""Audit run-log listener: one AUDIT.TASK_RUN_LOG row per task try, one DAG_RUN_LOG row per run.

Registered for every DAG by this plugin, so no DAG author has to remember it. Airflow calls the
task hooks in the task's own process, in the scheduler (a task killed or timed out outside its
process) and in the API server (a state set from the UI); DAG-run hooks in the scheduler and the
API server.

Who writes a try's row:
- a failed try (retried or final): its own process, with the error only it knows;
- a try failed outside its process, a state set in the UI: the scheduler, the API server;
- every other try (succeeded, skipped, ended in the triggerer): the scheduler when the run ends,
  all of the run's missing rows in one statement, with the rows and query ids of each task's
  return value (its XCom). A task process does not log in to the warehouse for its run-log row:
  that was a login and two statements per task, 17% of a scale-1 run's machine CPU locally.

The rows are built and written by ``include.audit``; a failed write is logged and counted, never
raised.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

from include import audit
from include import business_date as run_dates
from include.deadlines import ScheduledBusinessDayEnd

log = logging.getLogger(__name__)
FAILED = ("failed", "up_for_retry")  # the tries whose own process writes their row


def _state(value: Any) -> str:
    return str(getattr(value, "value", value) or "unknown")


def _runtime_context(ti: Any) -> dict[str, Any]:
    try:
        return ti.get_template_context()
    except Exception:
        return {}


def _business_date(ti: Any, runtime: bool) -> Any:
    try:
        if runtime:
            return run_dates.from_context(_runtime_context(ti))
        run = getattr(ti, "dag_run", None)
        return run_dates.of_run(run) if run is not None else None
    except Exception:  # a row without a date beats no row
        return None


def _task_try(ti: Any, state: str, previous_state: Any, error: Any = None, result: Any = None) -> audit.TaskTry:
    """The row of a try; ``result``: the task's return value (rows and query ids of a success)."""
    runtime = hasattr(ti, "get_template_context")  # the task's own process (task SDK)
    rows, query_ids = audit.task_metrics(result) if state == "success" else (None, [])
    error_class, error_message = audit.error_fields(error)
    # the hook fires at the state change: a try failed outside its process may have no end date yet
    end = getattr(ti, "end_date", None) or datetime.now(UTC)
    start = getattr(ti, "start_date", None)
    task = getattr(ti, "task", None)
    max_tries = getattr(ti, "max_tries", None)
    return audit.TaskTry(
        dag_id=ti.dag_id,
        task_id=ti.task_id,
        run_id=ti.run_id,
        map_index=int(getattr(ti, "map_index", -1) if getattr(ti, "map_index", None) is not None else -1),
        try_number=int(ti.try_number or 0),
        business_date=_business_date(ti, runtime),
        state=state,
        max_tries=int(max_tries) + 1 if max_tries is not None else None,
        started_at=audit.naive_utc(start),
        ended_at=audit.naive_utc(end),
        duration_s=audit.duration(start, end),
        rows_affected=rows,
        query_ids=audit.join_query_ids(query_ids),
        error_class=error_class,
        error_message=error_message,
        hostname=audit.this_host() if runtime else getattr(ti, "hostname", None),
        operator=getattr(task, "task_type", None) or getattr(ti, "operator", None),
        reported_by="worker" if runtime else ("api" if previous_state is None else "scheduler"),
    )


def _record(ti: Any, state: str, previous_state: Any, error: Any = None) -> None:
    if hasattr(ti, "get_template_context") and state not in FAILED:
        return  # the task's own process: the scheduler writes this try's row when the run ends
    try:
        row = _task_try(ti, state, previous_state, error)
    except Exception as exc:  # building the row must not break the task either
        log.warning("audit row not built for %s: %s", getattr(ti, "task_id", ti), exc)
        return
    # A failed try's own process waits for its row (the process ends soon after; Airflow records
    # the failure only once it has ended, so the row is there before the run can end). The
    # scheduler and the API server never wait for the warehouse.
    audit.record_task_try(row, background=row.reported_by != "worker")


@hookimpl
def on_task_instance_success(previous_state: Any, task_instance: Any) -> None:
    _record(task_instance, "success", previous_state)


@hookimpl
def on_task_instance_failed(previous_state: Any, task_instance: Any, error: Any) -> None:
    state = _state(getattr(task_instance, "state", None))
    _record(task_instance, state if state in ("failed", "up_for_retry") else "failed", previous_state, error)


@hookimpl
def on_task_instance_skipped(previous_state: Any, task_instance: Any) -> None:
    _record(task_instance, "skipped", previous_state)


def _dag_run(dag_run: Any, state: str, msg: str | None) -> None:
    try:
        start, end = dag_run.start_date, None if state == "running" else dag_run.end_date
        row = audit.DagRunEntry(
            dag_id=dag_run.dag_id,
            run_id=dag_run.run_id,
            business_date=run_dates.of_run(dag_run),
            run_type=_state(dag_run.run_type),
            state=state,
            started_at=audit.naive_utc(start),
            ended_at=audit.naive_utc(end),
            duration_s=audit.duration(start, end),
            message=(msg or None) and str(msg)[: audit.ERROR_MESSAGE_CHARS],
            reported_by="scheduler",
        )
    except Exception as exc:
        log.warning("audit row not built for DAG run %s: %s", getattr(dag_run, "run_id", dag_run), exc)
        return
    audit.record_dag_run(row)


def _note_business_date(dag_run: Any) -> None:
    """Show the run's business date in the UI as its note, unless someone wrote a note already.

    The grid labels runs by their run-after time (a scheduled run for 2026-11-21 shows
    "2026-11-22 00:00"), so the note is where an operator sees which date a run processes.
    Only on the scheduler's own DagRun object (its session writes the note with the run's state).
    """
    if not hasattr(dag_run, "dag_run_note"):
        return
    try:
        day = run_dates.of_run(dag_run)
        if day is not None and not dag_run.note:
            dag_run.note = f"business date {day}"
    except Exception as exc:  # never disturb the scheduler
        log.warning("business date note not set for %s: %s", getattr(dag_run, "run_id", dag_run), exc)


def _settle_tries(dag_run: Any) -> None:
    """Once the run has ended, the rows of its tries that have none: every try that succeeded or
    skipped (no process writes those), and any other whose writer could not reach the warehouse.

    The scheduler knows every try's outcome (its task instances, and the task instance history
    for earlier tries) and each task's return value (its XCom). Only on the scheduler's own DagRun
    object, which has a database session.
    """
    session = _orm_session(dag_run)
    if session is None:
        return
    try:
        from airflow.models.taskinstancehistory import TaskInstanceHistory as History
        from sqlalchemy import select

        day = run_dates.of_run(dag_run)
        earlier = session.scalars(
            select(History).where(History.dag_id == dag_run.dag_id, History.run_id == dag_run.run_id)
        ).all()
        latest = [ti for ti in dag_run.get_task_instances(session=session) if ti.try_number]
        results = _return_values(session, dag_run) if any(_state_of(ti) == "success" for ti in latest) else {}

        def row(t: Any, state: str, result: Any = None) -> audit.TaskTry:
            return replace(_task_try(t, state, "ended", result=result), business_date=day)

        tries = [row(h, _earlier_state(h)) for h in earlier] + [
            _trigger_end(ti, row(ti, _state_of(ti), results.get((ti.task_id, ti.map_index)))) for ti in latest
        ]
        audit.settle_task_tries(
            dag_run.dag_id, dag_run.run_id, [t for t in tries if t.state not in ("running", "unknown")]
        )
    except Exception as exc:  # never disturb the scheduler
        log.warning("run-log rows of %s not settled: %s", getattr(dag_run, "run_id", dag_run), exc)


def _return_values(session: Any, dag_run: Any) -> dict[tuple[str, int], Any]:
    """Each task's return value in this run (its last try's: a new try clears the XCom)."""
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    found = session.execute(
        select(XComModel.task_id, XComModel.map_index, XComModel.value).where(
            XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id, XComModel.key == "return_value"
        )
    ).all()
    return {(r.task_id, r.map_index): XComModel.deserialize_value(r) for r in found}


def _state_of(ti: Any) -> str:
    return _state(ti.state)


def _trigger_end(ti: Any, row: audit.TaskTry) -> audit.TaskTry:
    """A trigger that ends a retried try leaves the previous try's end date on the task instance
    (Airflow 3.3 keeps an end date it finds), before the try's start: the moment Airflow recorded
    the outcome (the row's last update) is the try's end then."""
    start, end = getattr(ti, "start_date", None), getattr(ti, "end_date", None)
    if start is None or (end is not None and end >= start):
        return row
    end = getattr(ti, "updated_at", None) or datetime.now(UTC)
    return replace(row, ended_at=audit.naive_utc(end), duration_s=audit.duration(start, end))


def _earlier_state(history: Any) -> str:
    """An earlier try's state as the run-log names it. The task instance history records a try
    that was retried as "failed"; while it had tries left, Airflow called it "up_for_retry" (a
    try failed on purpose without a retry and then cleared by hand is the exception)."""
    state = _state(history.state)
    if state == "failed" and history.max_tries is not None and history.try_number <= history.max_tries:
        return "up_for_retry"
    return state


def _orm_session(dag_run: Any) -> Any:
    if not hasattr(dag_run, "dag_run_note"):
        return None
    try:
        from sqlalchemy.orm import object_session

        return object_session(dag_run)
    except Exception:  # not an ORM object
        return None


@hookimpl
def on_dag_run_running(dag_run: Any, msg: str) -> None:
    _note_business_date(dag_run)
    _dag_run(dag_run, "running", msg)


# The tries' rows first: one writer thread keeps the order, so a run's final DAG_RUN_LOG row means
# its task rows are written (or their write failed and was logged).
@hookimpl
def on_dag_run_success(dag_run: Any, msg: str) -> None:
    _settle_tries(dag_run)
    _dag_run(dag_run, "success", msg)


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    _settle_tries(dag_run)
    _dag_run(dag_run, "failed", msg)


class RetailAuditPlugin(AirflowPlugin):
    name = "retail_audit"
    listeners = [sys.modules[__name__]]  # the hook implementations above
    deadline_references = [ScheduledBusinessDayEnd]
