"""The transform lock: one run at a time between its SILVER merge and its GOLD publication.

A row in ``AUDIT.TRANSFORM_LOCK`` (bootstrap/10). The daily DAG takes it in a setup task before
its first SILVER merge and gives it back in a teardown task after the GOLD publication, whatever
happened in between. Why one run at a time, and why a lock rather than a separate DAG, is in
docs/architecture.md ("Concurrency"). Nothing here imports Airflow.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from include.sql_render import render_sql
from include.warehouse import one_connection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Holder:
    run_id: str | None
    business_date: date | None

    def describe(self) -> str:
        return f"run {self.run_id} (business date {self.business_date})" if self.run_id else "nobody"


def holder(hook: Any) -> Holder:
    row = hook.get_first(render_sql("audit/transform_lock_holder.sql")) or (None, None)
    return Holder(row[0], row[1])


def try_acquire(
    hook: Any, run_id: str, business_date: date, lease_minutes: int, stale_seconds: int = 60
) -> tuple[bool, Holder]:
    """Take the lock for ``run_id`` if it is free (or already ours, or its lease ran out) and no
    run still waiting has waited longer: first come, first served.

    Each call notes that the run is waiting; a waiter that has not looked for ``stale_seconds``
    loses its place. Returns (acquired, holder). A write conflict with another run taking it at
    the same moment (the local stand-in aborts one of two concurrent updates) counts as "not
    acquired".
    """
    params = {
        "run_id": run_id,
        "business_date": business_date.isoformat(),
        "lease_minutes": int(lease_minutes),
        "stale_seconds": int(stale_seconds),
    }
    with one_connection(hook):  # up to five statements a look: one login
        return _try_acquire(hook, run_id, params)


def _try_acquire(hook: Any, run_id: str, params: dict[str, Any]) -> tuple[bool, Holder]:
    try:
        if not _rows(hook, "audit/transform_lock_wait.sql", params):
            _rows(hook, "audit/transform_lock_wait_first.sql", params)
        _rows(hook, "audit/acquire_transform_lock.sql", params)
    except Exception as exc:  # noqa: BLE001 - a conflict means someone else was faster; look again
        log.warning("could not take the transform lock this time (%s: %s)", type(exc).__name__, str(exc)[:200])
    current = holder(hook)
    if current.run_id == run_id:
        _rows(hook, "audit/transform_lock_done_waiting.sql", params)
    return current.run_id == run_id, current


def _rows(hook: Any, sql_file: str, params: dict[str, Any]) -> int:
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        cur.execute(render_sql(sql_file), params)
        return max(int(cur.rowcount or 0), 0)
    finally:
        conn.close()


def release(hook: Any, run_id: str) -> Holder:
    """Give the lock back if ``run_id`` holds it; returns who holds it afterwards."""
    with one_connection(hook):
        _rows(hook, "audit/release_transform_lock.sql", {"run_id": run_id})
        _rows(hook, "audit/transform_lock_done_waiting.sql", {"run_id": run_id})
        return holder(hook)
