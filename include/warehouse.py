"""Snowflake hooks for the platform's roles, several statements as one transaction through a
provider hook, and one connection for all of a step's calls."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

# which role each kind of task works as (include/sql/security/roles_and_grants.sql); the
# control tower is the UI page's reader, not a task
TASK_ROLE_KINDS = ("loader", "transformer", "ml", "run_logger", "control_tower")

# Session parameters every connection of the platform sets, whatever its Airflow connection says
# (include/preflight.py reads them back on the account):
# - TIMEZONE: Snowflake's default is America/Los_Angeles
#   (https://docs.snowflake.com/en/sql-reference/parameters#timezone); current_timestamp() and
#   current_date() follow it, and the platform's own timestamps (the run-log, the lock's lease, the
#   freshness views) are UTC.
# - AUTOCOMMIT: Snowflake's default, stated so that the provider's run() leaves it on instead of
#   switching a connection to autocommit off and committing at its end
#   (https://docs.snowflake.com/en/sql-reference/transactions#autocommit); the SQL files open their
#   own transactions where they need one.
# - LOCK_TIMEOUT: a statement waits this long for another transaction's lock on a table it
#   updates, deletes from or merges into, then fails (Snowflake's default is 12 hours:
#   https://docs.snowflake.com/en/sql-reference/parameters#lock-timeout); a task then fails and is
#   retried instead of holding a worker slot for half a day.
SESSION_PARAMETERS: dict[str, Any] = {"TIMEZONE": "UTC", "AUTOCOMMIT": True, "LOCK_TIMEOUT": 3600}


def query_tag(context: Any = None) -> str | None:
    """The QUERY_TAG of a task's sessions: which DAG, task, run and try sent a statement, as JSON.

    Snowflake shows it beside every statement in QUERY_HISTORY
    (https://docs.snowflake.com/en/sql-reference/parameters#query-tag, at most 2,000 characters),
    so a statement's time and credits add up per task; the local stand-in's statement trace reads
    it the same way (``make bench``). From the task's ``context`` when given (an operator that
    builds its hook's parameters while its templates are rendered), else from what Airflow's task
    runner puts in the environment before it executes a task (AIRFLOW_CTX_*); outside a task,
    none."""
    if context is not None and (ti := context.get("ti")) is not None:
        ident = (ti.dag_id, ti.task_id, ti.run_id, ti.try_number)
    else:
        ident = tuple(os.environ.get(f"AIRFLOW_CTX_{k}") for k in ("DAG_ID", "TASK_ID", "DAG_RUN_ID", "TRY_NUMBER"))
    if not ident[1]:
        return None
    import json

    tag = dict(zip(("dag_id", "task_id", "run_id", "try"), map(str, ident), strict=True))
    return json.dumps(tag, separators=(",", ":"))[:2000]


def session_parameters(**overrides: Any) -> dict[str, Any]:
    """The platform's session parameters and, in a task, its QUERY_TAG, with ``overrides`` (names
    in upper case; None leaves a parameter as it is) on top."""
    tag = {"QUERY_TAG": t} if (t := query_tag()) else {}
    given = {name.upper(): value for name, value in overrides.items() if value is not None}
    return {**SESSION_PARAMETERS, **tag, **given}


def role_param(kind: str) -> dict[str, str]:
    """``{"role": <the kind's role>}`` when ``RETAIL_TASK_ROLES=true``, else ``{}`` (the
    connection's own role). Production: the service user holds the pipeline role, which inherits
    every task role; each task then works with the least it needs (docs/production.md). Read at
    call time, so a task process follows its environment."""
    if kind not in TASK_ROLE_KINDS:
        raise ValueError(f"unknown task role kind {kind!r}; one of {', '.join(TASK_ROLE_KINDS)}")
    if os.environ.get("RETAIL_TASK_ROLES", "false").strip().lower() != "true":
        return {}
    from include.config import ROLES

    return {"role": getattr(ROLES, kind)}


def hook_params(kind: str, **session: Any) -> dict[str, Any]:
    """What a Snowflake hook of a task of ``kind`` is built with: its role (``role_param``) and
    the platform's session parameters (``session`` on top). A hook's ``session_parameters``
    replace its connection's, so these are the whole set."""
    return {**role_param(kind), "session_parameters": session_parameters(**session)}


def snowflake_hook(kind: str, conn_id: str | None = None, **session: Any) -> Any:
    """The Snowflake provider hook a task of ``kind`` uses (``session``: session parameters on
    top of the platform's, e.g. ``lock_timeout=30``)."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.config import SNOWFLAKE_CONN_ID

    return SnowflakeHook(snowflake_conn_id=conn_id or SNOWFLAKE_CONN_ID, **hook_params(kind, **session))


@contextmanager
def transaction(hook: Any) -> Iterator[Any]:
    """A cursor inside ``begin`` ... ``commit`` on a connection of the hook's.

    If the block raises, the transaction is rolled back and the error propagates. The connection
    is closed afterwards, unless it is the one a ``one_connection`` block keeps open.
    """
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        cur.execute("begin")
        try:
            yield cur
        except BaseException:
            with suppress(Exception):  # a dead connection rolls back by itself; keep the first error
                cur.execute("rollback")
            raise
        cur.execute("commit")
    finally:
        conn.close()


class _KeptOpen:
    """A connection whose ``close()`` leaves it open, for the provider's ``with closing(get_conn())``."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@contextmanager
def one_connection(hook: Any) -> Iterator[Any]:
    """Inside the block, every call of ``hook`` (``run``, ``get_first``, ``get_records``,
    ``transaction``) uses one connection, opened at the first call and closed at the end.

    The provider hook opens and closes a connection per call: a Snowflake login each. A
    ``load_bronze`` task made three, a check task two.
    """
    opened: list[Any] = []
    own_get_conn, patched_before = hook.get_conn, hook.__dict__.get("get_conn")

    def get_conn() -> Any:
        if not opened:
            opened.append(own_get_conn())
        return _KeptOpen(opened[0])

    hook.get_conn = get_conn
    try:
        yield hook
    finally:
        if patched_before is None:
            del hook.get_conn  # the class's method again
        else:
            hook.get_conn = patched_before
        for conn in opened:
            with suppress(Exception):  # a connection the block's error already broke
                conn.close()


def put_file(cursor: Any, local: Any, stage_folder: str) -> None:
    """PUT a local file, as it is, into an internal stage's folder (``@db.schema.stage/path``)."""
    cursor.execute(f"put 'file://{local}' {stage_folder}/ auto_compress = false overwrite = true")


def rows_loaded(cursor: Any) -> int:
    """The rows the COPY just run on ``cursor`` loaded, over all its files."""
    names = [d[0].lower() for d in cursor.description]
    return sum(int(r[names.index("rows_loaded")]) for r in cursor.fetchall())
