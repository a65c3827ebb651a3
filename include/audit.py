"""Audit run-log rows: one per task try, one per DAG run, written to AUDIT.TASK_RUN_LOG/DAG_RUN_LOG.

The Airflow listener in ``plugins/retail_audit_listener.py`` calls :func:`record_task_try` and
:func:`record_dag_run`; everything here is plain Python so it is tested without Airflow.

Writing the audit row must never fail or stall the task it describes: a write that raises or
takes longer than ``AUDIT_TIMEOUT_SECONDS`` is logged with the row it could not write, counted
(``audit_write_failures()`` and the ``retail.audit.write_failed`` metric) and dropped. The
scheduler's and the API server's writes run in the background and are tried again after
``BACKGROUND_RETRY_DELAYS`` first (each of them is safe to repeat): their processes live for days,
so a warehouse restart, a network blip or a session that expired while idle would otherwise cost
the next row.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from include.config import AUDIT_CONN_ID, AUDIT_TIMEOUT_SECONDS
from include.sql_render import render_sql, statements

log = logging.getLogger(__name__)

ERROR_MESSAGE_CHARS = 2000
QUERY_IDS_MAX = 200
# keys under which tasks report what they wrote (load_feed: rows_loaded, transform steps: rows_affected)
ROW_KEYS = ("rows_loaded", "rows_affected")


@dataclass(frozen=True)
class TaskTry:
    """One task try as the run-log stores it."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int
    try_number: int
    business_date: date | None
    state: str
    max_tries: int | None
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: float | None
    rows_affected: int | None
    query_ids: str | None
    error_class: str | None
    error_message: str | None
    hostname: str | None
    operator: str | None
    reported_by: str  # worker | scheduler | api


@dataclass(frozen=True)
class DagRunEntry:
    dag_id: str
    run_id: str
    business_date: date | None
    run_type: str | None
    state: str
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: float | None
    message: str | None
    reported_by: str


def task_metrics(result: Any) -> tuple[int | None, list[str]]:
    """Rows written and Snowflake query ids found in a task's return value (any nesting).

    Tasks report what they did in their XCom return value: ``rows_loaded`` / ``rows_affected``
    (an int or a list of ints per statement) and ``query_ids``. None when the task reports no rows.
    """
    rows: list[int] = []
    query_ids: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if key in ROW_KEYS:
                    rows.extend(_ints(item))
                elif key == "query_ids":
                    query_ids.extend(str(q) for q in _flat(item) if q)
                else:
                    walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(result)
    return (sum(rows) if rows else None), query_ids


def _flat(value: Any) -> Iterable[Any]:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _flat(item)
    else:
        yield value


def _ints(value: Any) -> list[int]:
    return [int(v) for v in _flat(value) if isinstance(v, int | float) and not isinstance(v, bool)]


def error_fields(error: BaseException | str | None) -> tuple[str | None, str | None]:
    """Error class and (bounded) message of a failed try."""
    if error is None:
        return None, None
    if isinstance(error, BaseException):
        return type(error).__name__, str(error)[:ERROR_MESSAGE_CHARS]
    return "error", str(error)[:ERROR_MESSAGE_CHARS]


def duration(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def naive_utc(moment: datetime | None) -> datetime | None:
    """TIMESTAMP_NTZ columns hold UTC without a zone."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def join_query_ids(query_ids: list[str]) -> str | None:
    return ",".join(query_ids[:QUERY_IDS_MAX]) or None


def this_host() -> str:
    """This machine as Airflow names it (``[core] hostname_callable``, as in the task instance's
    hostname: the local Celery workers are named, not just their shared host)."""
    try:
        from airflow.utils.net import get_hostname

        return get_hostname()
    except Exception:  # noqa: BLE001 - a misconfigured callable must not cost the run-log row
        return socket.gethostname()


# -- writing ------------------------------------------------------------------------------------

_failures = 0
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
# Pauses before a background write is tried again, each time on a fresh warehouse session. The
# first retry covers a session that died while idle; the later ones a warehouse that restarts.
BACKGROUND_RETRY_DELAYS: tuple[float, ...] = (0.5, 2.0, 5.0, 15.0)


def audit_write_failures() -> int:
    """Audit rows this process could not write."""
    return _failures


def _count_failure(what: str, row: Any, exc: BaseException) -> None:
    global _failures
    with _lock:
        _failures += 1
        count = _failures
    log.warning(
        "audit write failed (%d in this process) for %s: %s: %s; row not written: %s",
        count,
        what,
        type(exc).__name__,
        exc,
        row,
    )
    try:
        from airflow.sdk.observability.stats import Stats  # type: ignore[import-not-found]
    except ImportError:
        try:
            from airflow.stats import Stats  # type: ignore[no-redef]
        except ImportError:
            return
    try:
        Stats.incr("retail.audit.write_failed")
    except Exception:  # noqa: S110 - metrics are best effort
        pass


_connection: Any = None  # one connection per process, used only by the writer thread


def _start_afresh_after_fork() -> None:
    """A forked process (a worker forked from a scheduler that logged runs, a task forked from a
    worker) has none of its parent's writer threads and must not share its warehouse session:
    it opens its own writer and connection when it first writes."""
    global _lock, _pool, _connection
    _lock, _pool, _connection = threading.Lock(), None, None


os.register_at_fork(after_in_child=_start_afresh_after_fork)


def _run(statement: Callable[[Any], Any]) -> Any:
    """Run ``statement(cursor)`` on this process's audit connection (opened once, reopened after an
    error) and return what it returns."""
    global _connection
    if _connection is None:
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        from include.warehouse import hook_params

        hook = SnowflakeHook(snowflake_conn_id=AUDIT_CONN_ID, log_sql=False, **hook_params("run_logger"))
        _connection = hook.get_conn()
        _connection.autocommit(True)
    try:
        return statement(_connection.cursor())
    except Exception:
        connection, _connection = _connection, None
        try:
            connection.close()
        finally:
            raise


def _execute(sql_file: str, params: dict[str, Any]) -> int:
    """Run one audit statement; returns the rows it changed."""

    def run(cursor: Any) -> int:
        cursor.execute(render_sql(sql_file), params)
        return max(int(cursor.rowcount or 0), 0)

    return _run(run)


def _execute_many(sql_file: str, rows: list[dict[str, Any]]) -> int:
    """An ``insert ... values`` for many rows; the connector sends it as one statement (only when
    the text starts with ``insert``: the file's comments go first)."""
    (insert,) = statements(render_sql(sql_file))

    def run(cursor: Any) -> int:
        cursor.executemany(insert, rows)
        return max(int(cursor.rowcount or 0), 0)

    return _run(run)


def _fetch(sql_file: str, params: dict[str, Any]) -> list[tuple]:
    def run(cursor: Any) -> list[tuple]:
        cursor.execute(render_sql(sql_file), params)
        return cursor.fetchall()

    return _run(run)


def _with_retries(what: str, write: Callable[[], None], delays: tuple[float, ...]) -> None:
    """``write()``, and again after each of ``delays`` while it raises (it must be safe to repeat:
    a statement whose answer was lost may have committed). Raises the last error."""
    from include.retrying import GaveUp, with_retries

    try:
        with_retries(f"audit write for {what}", write, delays, logger=log)
    except GaveUp as exc:
        raise exc.cause from exc


def _write(what: str, statements: Callable[[dict[str, Any]], None], row: Any, *, background: bool) -> None:
    """Write ``row`` with ``statements``; never raise. In the foreground wait at most
    AUDIT_TIMEOUT_SECONDS; in the background try again after BACKGROUND_RETRY_DELAYS."""
    params = asdict(row)
    delays = BACKGROUND_RETRY_DELAYS if background else ()

    def attempt() -> None:
        try:
            _with_retries(what, lambda: statements(params), delays)
        except Exception as exc:
            _count_failure(what, row, exc)

    if background:
        # scheduler and API server: never hold up their loops on the warehouse
        _executor().submit(attempt)
        return
    future = _executor().submit(attempt)
    try:
        future.result(timeout=AUDIT_TIMEOUT_SECONDS)
    except FutureTimeout as exc:
        _count_failure(what, row, exc)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="retail-audit")
        return _pool


def record_task_try(row: TaskTry, *, background: bool = False, execute: Callable[..., int | None] = _execute) -> None:
    """Write one try's row as its reporter sees it: a failed try from its own process (with the
    error only that process knows), a try failed outside its process from the scheduler, a state
    set in the UI from the API server. Insert it, or update the row the try has already (a state
    set by hand after the try ended): one statement in the usual case. ``background``: do not wait
    (the writer thread keeps the order)."""
    insert, update = "audit/insert_task_try.sql", "audit/update_task_try.sql"

    def upsert(params: dict[str, Any]) -> None:
        if not execute(insert, params):
            execute(update, params)

    what = f"task {row.dag_id}.{row.task_id} {row.run_id} try {row.try_number}"
    _write(what, upsert, row, background=background)


def settle_task_tries(
    dag_id: str,
    run_id: str,
    tries: Iterable[TaskTry],
    *,
    execute_many: Callable[..., int | None] = _execute_many,
    fetch: Callable[..., list[tuple]] = _fetch,
) -> None:
    """After a DAG run ended: a row for each of its tries that has none, in one statement (in the
    background; the writer thread writes what is submitted after this, the run's own row, after it).

    ``tries``: every try of the run as Airflow recorded it. Started, succeeded and skipped tries
    are written here only: their task processes write no row (a warehouse login and a statement
    each, for what Airflow records anyway); a failed try's process wrote its own row with its
    error, and a try failed outside its process or set in the UI has its row from the scheduler or
    the API server. When a try's row is missing because its writer could not reach the warehouse,
    this writes it from what Airflow recorded. One read and at most one write per run.
    """
    tries = list(tries)

    def settle() -> None:
        found = fetch("audit/task_run_log_of_run.sql", {"dag_id": dag_id, "run_id": run_id})
        logged = {(task_id, int(map_index), int(try_number)) for task_id, map_index, try_number in found}
        missing = [asdict(r) for r in tries if (r.task_id, r.map_index, r.try_number) not in logged]
        if missing:
            execute_many("audit/insert_task_tries.sql", missing)

    what = f"settling the run-log of {dag_id} {run_id}"

    def attempt() -> None:
        try:  # a retry reads again first: an insert whose answer was lost is not repeated
            _with_retries(what, settle, BACKGROUND_RETRY_DELAYS)
        except Exception as exc:
            _count_failure(what, None, exc)

    _executor().submit(attempt)


@dataclass(frozen=True)
class AlertOutcome:
    """What became of one alert on one channel."""

    dag_id: str | None
    task_id: str | None
    run_id: str | None
    subject: str
    channel: str
    status: str  # sent | lost
    tries: int
    error_message: str | None
    hostname: str | None


def record_alert(row: AlertOutcome, *, execute: Callable[..., int | None] = _execute) -> None:
    """Write an alert's outcome (foreground, bounded by AUDIT_TIMEOUT_SECONDS; never raises)."""
    what = f"alert {row.subject!r} via {row.channel} ({row.status})"
    _write(what, lambda params: execute("audit/record_alert.sql", params), row, background=False)


def record_dag_run(row: DagRunEntry, *, background: bool = True, execute: Callable[..., int | None] = _execute) -> None:
    what = f"dag run {row.dag_id} {row.run_id}"
    _write(what, lambda params: execute("audit/record_dag_run.sql", params), row, background=background)
