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
from include.warehouse import one_connection, transaction

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


# How long one look at the lock waits for another run's look to finish before it gives up and looks
# again at the next poke (Snowflake makes a conflicting UPDATE or DELETE wait for the other
# transaction's table lock: https://docs.snowflake.com/en/sql-reference/transactions#resource-locking).
LOOK_LOCK_TIMEOUT_SECONDS = 30


def try_acquire(
    hook: Any, run_id: str, business_date: date, lease_minutes: int, stale_seconds: int = 60
) -> tuple[bool, Holder]:
    """Take the lock for ``run_id`` if it is free (or already ours, or its lease ran out) and no
    run still waiting has waited longer: first come, first served.

    Each call notes that the run is waiting; a waiter that has not looked for ``stale_seconds``
    loses its place. Returns (acquired, holder). A look that cannot finish - another run's look
    holds the table past ``LOOK_LOCK_TIMEOUT_SECONDS`` (Snowflake), or aborted this one's write
    (the local stand-in, when its snapshot predates the other's commit) - counts as "not
    acquired": the sensor looks again.

    Every write is its own ``begin ... commit``, so it is committed whatever the connection's
    AUTOCOMMIT (the provider's ``run()`` turns it off on a connection without that session
    parameter, and a kept connection's uncommitted rows are rolled back when it closes).
    """
    params = {
        "run_id": run_id,
        "business_date": business_date.isoformat(),
        "lease_minutes": int(lease_minutes),
        "stale_seconds": int(stale_seconds),
    }
    with one_connection(hook):  # up to six statements a look: one login
        hook.get_conn().cursor().execute(f"alter session set lock_timeout = {LOOK_LOCK_TIMEOUT_SECONDS}")
        return _try_acquire(hook, run_id, params)


def _try_acquire(hook: Any, run_id: str, params: dict[str, Any]) -> tuple[bool, Holder]:
    try:
        with transaction(hook) as cur:
            if not _rows(cur, "audit/transform_lock_wait.sql", params):
                _rows(cur, "audit/transform_lock_wait_first.sql", params)
        with transaction(hook) as cur:
            _rows(cur, "audit/acquire_transform_lock.sql", params)
    except Exception as exc:  # noqa: BLE001 - someone else was faster or slower; look again
        log.warning("could not take the transform lock this time (%s: %s)", type(exc).__name__, str(exc)[:200])
    current = holder(hook)
    if current.run_id == run_id:
        with transaction(hook) as cur:
            _rows(cur, "audit/transform_lock_done_waiting.sql", params)
    return current.run_id == run_id, current


def _rows(cursor: Any, sql_file: str, params: dict[str, Any]) -> int:
    cursor.execute(render_sql(sql_file), params)
    return max(int(cursor.rowcount or 0), 0)


def release(hook: Any, run_id: str) -> Holder:
    """Give the lock back if ``run_id`` holds it; returns who holds it afterwards. One transaction,
    committed whatever the connection's AUTOCOMMIT."""
    with one_connection(hook):
        with transaction(hook) as cur:
            _rows(cur, "audit/release_transform_lock.sql", {"run_id": run_id})
            _rows(cur, "audit/transform_lock_done_waiting.sql", {"run_id": run_id})
        return holder(hook)
