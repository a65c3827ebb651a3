"""The transform lock (include/transform/lock.py) through the provider's SnowflakeHook, on the
in-process stand-in: its bookkeeping is committed whatever the connection's AUTOCOMMIT, and a look
that meets another writer's table lock waits, then gives up and looks again."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from include.config import WAREHOUSE
from include.transform import lock

DAY = date(2026, 5, 4)
LOCK = WAREHOUSE.qualified(WAREHOUSE.audit, "TRANSFORM_LOCK")
WAITERS = WAREHOUSE.qualified(WAREHOUSE.audit, "TRANSFORM_LOCK_WAITERS")


@pytest.fixture
def warehouse() -> Iterator[Any]:
    from local.history import in_process_warehouse

    with in_process_warehouse() as hook:
        yield hook


def _hook(monkeypatch: pytest.MonkeyPatch, session_parameters: dict[str, Any] | None) -> Any:
    """The provider's hook on an Airflow connection whose extras set ``session_parameters``."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    extra: dict[str, Any] = {"account": "local", "database": WAREHOUSE.database}
    if session_parameters is not None:
        extra["session_parameters"] = session_parameters
    password = "local"  # noqa: S105  # pragma: allowlist secret - the in-process stand-in ignores it
    conn = {"conn_type": "snowflake", "login": "local", "password": password, "schema": WAREHOUSE.audit, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_SNOWFLAKE_LOCK_TEST", json.dumps(conn))
    return SnowflakeHook(snowflake_conn_id="snowflake_lock_test")


def _rows(hook: Any, sql: str) -> list[tuple]:
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        cur.execute(sql)
        return cur.fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "session_parameters",
    [{"AUTOCOMMIT": True, "TIMEZONE": "UTC"}, {"AUTOCOMMIT": False, "TIMEZONE": "UTC"}, {"TIMEZONE": "UTC"}, None],
    ids=["autocommit on", "autocommit off", "autocommit unsaid", "no session parameters"],
)
def test_the_lock_is_taken_and_given_back_whatever_the_connections_autocommit(
    warehouse: Any, monkeypatch: pytest.MonkeyPatch, session_parameters: dict[str, Any] | None
) -> None:
    """Without AUTOCOMMIT in its session parameters, the provider's run() switches the kept
    connection to autocommit off: a write after it that nobody commits is rolled back on close.
    (The lock's code before 2026-12-06 lost its "no longer waiting" delete that way.)"""
    hook, observer = _hook(monkeypatch, session_parameters), warehouse
    acquired, holder = lock.try_acquire(hook, "run_a", DAY, lease_minutes=60)
    assert acquired and holder.run_id == "run_a"
    assert _rows(observer, f"select holder_run_id from {LOCK}") == [("run_a",)], "committed, seen by another session"
    assert _rows(observer, f"select run_id from {WAITERS}") == [], "no longer waiting, and that was committed too"
    other, holder = lock.try_acquire(hook, "run_b", DAY, lease_minutes=60)
    assert not other and holder.run_id == "run_a"
    assert _rows(observer, f"select run_id from {WAITERS}") == [("run_b",)], "the second run waits in line"
    assert lock.release(hook, "run_a").run_id is None
    assert _rows(observer, f"select holder_run_id from {LOCK}") == [(None,)]
    assert lock.try_acquire(hook, "run_b", DAY, lease_minutes=60)[0]


def test_a_look_that_meets_another_writer_waits_then_looks_again(warehouse: Any, monkeypatch: Any) -> None:
    """Snowflake makes the second UPDATE of the lock row wait for the first transaction (the stand-in
    now too); the look gives up after its lock timeout, and the next look decides on what was
    committed."""
    import time

    monkeypatch.setattr(lock, "LOOK_LOCK_TIMEOUT_SECONDS", 1)
    hook = _hook(monkeypatch, {"AUTOCOMMIT": True, "TIMEZONE": "UTC"})
    other = warehouse.get_conn()  # another run's look, in the middle of its transaction
    cur = other.cursor()
    cur.execute("begin")
    cur.execute(f"update {LOCK} set holder_run_id = 'run_other', expires_at = dateadd(hour, 1, sysdate())")
    started = time.monotonic()
    acquired, _ = lock.try_acquire(hook, "run_a", DAY, lease_minutes=60)
    assert not acquired and time.monotonic() - started >= 1, "it waited for the other look, then gave up"
    threading.Timer(0.5, lambda: cur.execute("commit")).start()
    monkeypatch.setattr(lock, "LOOK_LOCK_TIMEOUT_SECONDS", 30)
    acquired, holder = lock.try_acquire(hook, "run_a", DAY, lease_minutes=60)
    assert not acquired and holder.run_id == "run_other", "the other run's committed take wins"
    other.close()
