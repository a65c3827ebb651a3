"""Audit run-log listener: one AUDIT.TASK_RUN_LOG row per task try, one DAG_RUN_LOG row per run.

Registered for every DAG by this plugin, so no DAG author has to remember it. Airflow calls the
task hooks in the task's own process (state, timings, rows and query ids from the task's return
value), in the scheduler (a task killed or timed out outside its process) and in the API server
(a state set from the UI); DAG-run hooks in the scheduler and the API server. The rows are built
and written by ``include.audit``; a failed write is logged and counted, never raised.
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


def _result(ti: Any) -> Any:
    try:
        return ti.xcom_pull(task_ids=ti.task_id, key="return_value", map_indexes=ti.map_index)
    except Exception:
        return None


def _task_try(ti: Any, state: str, previous_state: Any, error: Any = None) -> audit.TaskTry:
    runtime = hasattr(ti, "get_template_context")  # the task's own process (task SDK)
    rows, query_ids = audit.task_metrics(_result(ti)) if runtime and state == "success" else (None, [])
    error_class, error_message = audit.error_fields(error)
    # the hook fires at the state change: a task that skips itself has no end date set yet
    end = None if state == "running" else (getattr(ti, "end_date", None) or datetime.now(UTC))
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
    try:
        row = _task_try(ti, state, previous_state, error)
    except Exception as exc:  # building the row must not break the task either
        log.warning("audit row not built for %s: %s", getattr(ti, "task_id", ti), exc)
        return
    # The task's own process waits for its final row (the process ends soon after) but not for the
    # "running" row: the task starts its work while it is written. The scheduler and the API
    # server never wait for the warehouse.
    audit.record_task_try(row, background=row.reported_by != "worker" or state == "running")


@hookimpl
def on_task_instance_running(previous_state: Any, task_instance: Any) -> None:
    _record(task_instance, "running", previous_state)


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
    """Once the run has ended, the run-log rows its tries could not finish themselves.

    A try's final row is written by the process that ran it; when the warehouse was down at that
    moment, or the process was killed, the row stays "running" or is missing. The scheduler knows
    every try's outcome (its task instances, and the task instance history for earlier tries):
    rows still "running" get that outcome, and earlier tries without a row get one. Only on the
    scheduler's own DagRun object, which has a database session.
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
        in_triggerer = [ti for ti in latest if _ended_in_triggerer(dag_run, ti)]

        def rows(tries: list[Any], state: Any) -> list[audit.TaskTry]:
            return [
                replace(_task_try(t, state(t), "ended"), business_date=day)
                for t in tries
                if state(t) not in ("running", "unknown")
            ]

        audit.settle_task_tries(
            dag_run.dag_id,
            dag_run.run_id,
            rows(earlier, _earlier_state),
            rows([ti for ti in latest if ti not in in_triggerer], _state_of),
            without_process=[_trigger_end(ti, row) for ti in in_triggerer for row in rows([ti], _state_of)],
        )
    except Exception as exc:  # never disturb the scheduler
        log.warning("run-log rows of %s not settled: %s", getattr(dag_run, "run_id", dag_run), exc)


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


def _ended_in_triggerer(dag_run: Any, ti: Any) -> bool:
    """A try that succeeded in the triggerer: its task starts there (``start_from_trigger``) and
    only a trigger ends it as a success, so no task process ran it or writes its row."""
    try:
        task = dag_run.dag.get_task(ti.task_id)
    except Exception:  # no DAG at hand: a try no worker ever took has no hostname
        return _state(ti.state) == "success" and not getattr(ti, "hostname", None)
    return bool(getattr(task, "start_from_trigger", False)) and _state(ti.state) == "success"


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


@hookimpl
def on_dag_run_success(dag_run: Any, msg: str) -> None:
    _dag_run(dag_run, "success", msg)
    _settle_tries(dag_run)


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    _dag_run(dag_run, "failed", msg)
    _settle_tries(dag_run)


class RetailAuditPlugin(AirflowPlugin):
    name = "retail_audit"
    listeners = [sys.modules[__name__]]  # the hook implementations above
    deadline_references = [ScheduledBusinessDayEnd]
