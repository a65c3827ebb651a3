"""Snowflake hooks for the platform's roles, and one way to run several statements as one
transaction through a provider hook."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# which role each kind of task works as (include/sql/security/roles_and_grants.sql)
TASK_ROLE_KINDS = ("loader", "transformer", "ml", "run_logger")


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


def snowflake_hook(kind: str, conn_id: str | None = None) -> Any:
    """The Snowflake provider hook a task of ``kind`` uses."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.config import SNOWFLAKE_CONN_ID

    return SnowflakeHook(snowflake_conn_id=conn_id or SNOWFLAKE_CONN_ID, **role_param(kind))


@contextmanager
def transaction(hook: Any) -> Iterator[Any]:
    """A cursor inside ``begin`` ... ``commit`` on a connection of its own.

    If the block raises, the connection is closed without a commit, which rolls the transaction
    back (Snowflake and the local stand-in alike), and the error propagates.
    """
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        cur.execute("begin")
        yield cur
        cur.execute("commit")
    finally:
        conn.close()


def put_file(cursor: Any, local: Any, stage_folder: str) -> None:
    """PUT a local file, as it is, into an internal stage's folder (``@db.schema.stage/path``)."""
    cursor.execute(f"put 'file://{local}' {stage_folder}/ auto_compress = false overwrite = true")


def rows_loaded(cursor: Any) -> int:
    """The rows the COPY just run on ``cursor`` loaded, over all its files."""
    names = [d[0].lower() for d in cursor.description]
    return sum(int(r[names.index("rows_loaded")]) for r in cursor.fetchall())
