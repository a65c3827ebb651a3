"""Start the fakesnow server (the local Snowflake stand-in) with these fixes applied.

1. Persistence: in server mode fakesnow 0.12 ignores ``-d`` and keeps every database in memory.
   Here the server's shared instance attaches each database from ``<dir>/<DATABASE>.db``, so
   warehouse tables survive ``make down``/``make up``. Stages and file formats live in
   fakesnow's in-memory global catalog: the setup DAG creates them, and this server re-creates
   them when it starts on an existing warehouse (a restart after a crash keeps them, as Snowflake
   does; tests/integration/test_run_log.py kills and restarts the server mid-run).

2. Wide files: COPY of a CSV file with ten or more columns (local/fakesnow_wide_copy.py).

3. Detached transactions: when a client dies inside ``begin`` ... ``commit`` (a task process
   killed during its load), Snowflake aborts the open transaction once it has been idle for
   5 minutes and blocks someone; until then the retry waits on its lock. fakesnow would keep it
   open for ever, and DuckDB fails the retry's first write to the same rows at once ("Conflict on
   tuple deletion"). Here a transaction idle for ``FAKESNOW_DETACHED_TRANSACTION_ABORT_SECONDS``
   (default 300) is rolled back, and the session's next statement other than ``begin`` or
   ``rollback`` fails, so a client that was only slow never commits half a transaction.

4. A fault point for the fault tests (tests/integration/test_run_log.py), off unless the server
   is started with ``FAKESNOW_HOLD=<regex>`` and ``FAKESNOW_HOLD_MARKER=<path>``: the first
   statement matching the pattern is executed, then its answer is held back. The server writes
   the statement to the marker file and waits until the file is removed (at most 10 minutes).
   The test then kills this server, or the task process waiting for the answer.

5. Checkpoints while idle instead of inside a commit (``CHECKPOINT_THRESHOLD`` below).

6. ``FAKESNOW_TRACE=<file>``: one line per statement, for profiling; off by default. Tab-separated:
   end (epoch s), wall ms, this thread's CPU ms, session, the session's QUERY_TAG (the task that
   sent it: include/warehouse.py), rows the statement returned or changed, what it scanned per
   table (``table:rows scanned:row groups read/row groups of the table``, from DuckDB's profiler:
   where a predicate let DuckDB skip row groups by their zone maps, as Snowflake prunes
   micro-partitions), and the statement. ``benchmarks.harness`` reads it (``trace`` of a case).

7. Files PUT into a stage are kept in ``<db-path>/stages``, not in a temporary folder that is
   never removed (local/fakesnow_stage_files.py).

8. Each statement parsed once instead of twice, and a row-count or status result described from
   its own schema instead of a second DuckDB plan (local/fakesnow_statement_cost.py).

9. Snowflake's behaviour where the platform relies on it (local/fakesnow_snowflake.py): session
   parameters from the login (the user, role and session parameters fakesnow's login drops are
   passed on), DDL committing an open transaction, table locks that make a second writer wait,
   MERGE determinism, CSV escapes, integer division, Snowflake's grammar; and roles, users and
   grants (local/fakesnow_account.py). A session the client closes rolls back what it left open.

    python local/fakesnow_server.py --host 127.0.0.1 --port 9101 --db-path var/stack/snowflake
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import fakesnow.server as fakesnow_server
import snowflake.connector.errors
import uvicorn
from fakesnow.cursor import FakeSnowflakeCursor
from fakesnow.instance import FakeSnow

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the repository's modules
from local import (
    fakesnow_account,  # noqa: E402
    fakesnow_snowflake,  # noqa: E402
    fakesnow_stage_files,  # noqa: E402
    fakesnow_statement_cost,  # noqa: E402
    fakesnow_wide_copy,  # noqa: E402,F401 - applies the fix
)

log = logging.getLogger("fakesnow_server")
ABORT_AFTER_S = float(os.environ.get("FAKESNOW_DETACHED_TRANSACTION_ABORT_SECONDS", "300"))
HOLD = re.compile(os.environ["FAKESNOW_HOLD"], re.IGNORECASE) if os.environ.get("FAKESNOW_HOLD") else None
HOLD_MARKER = Path(os.environ.get("FAKESNOW_HOLD_MARKER", "")) if HOLD else None
HOLD_MAX_S = 600
# DuckDB writes its WAL into the database file (a checkpoint) once the WAL passes a threshold,
# 16 MB by default, inside the commit that crossed it: a scale-1 day writes about 30 MB, so two
# statements of every run stalled for seconds. Until a checkpoint, the rows a MERGE updated stay
# in DuckDB's update versions, which every later scan of the table walks: the SILVER.CUSTOMERS
# MERGE (17,000 updated rows a day) took 2-4 s of CPU a few runs after a checkpoint, 0.2 s right
# after one. Here the threshold is high and the server checkpoints whenever it has been idle for
# a second with more than 4 MB of WAL (between a run's stages, too: 0.1-0.8 s each).
CHECKPOINT_THRESHOLD = os.environ.get("FAKESNOW_CHECKPOINT_THRESHOLD", "1GB")
CHECKPOINT_IDLE_S = float(os.environ.get("FAKESNOW_CHECKPOINT_IDLE_SECONDS", "1"))
CHECKPOINT_IDLE_WAL_BYTES = int(float(os.environ.get("FAKESNOW_CHECKPOINT_IDLE_WAL_MB", "4")) * 1024 * 1024)
TRACE = os.environ.get("FAKESNOW_TRACE")  # a file: one line per statement (profiling)
_trace_lock = threading.Lock()
_BEGIN = re.compile(r"\s*(begin|start\s+transaction)\b", re.IGNORECASE)
_ROLLBACK = re.compile(r"\s*rollback\b", re.IGNORECASE)
_LEADING_COMMENTS = re.compile(r"^(\s+|--[^\n]*(\n|$)|/\*.*?\*/)*", re.DOTALL)
_TRAILING_COMMENTS = re.compile(r";(\s+|--[^\n]*(\n|$)|/\*.*?\*/)*$", re.DOTALL)
fakesnow_snowflake.apply()  # Snowflake's behaviour; the server's own wrapper (below) runs on top of it
fakesnow_account.apply()  # roles, users and grants, enforced
_original_execute = FakeSnowflakeCursor.execute
_sessions_lock = threading.Lock()
_held = threading.Event()


class _Session:
    """What the server knows of one session's statements (its transaction: fakesnow_snowflake)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # held while a statement runs
        self.last_active = time.monotonic()
        self.aborted = False
        self.profiling = False  # DuckDB's profiler is on for this session (FAKESNOW_TRACE)


def _session(conn: Any) -> _Session:
    with _sessions_lock:
        if not hasattr(conn, "_rct_session"):
            conn._rct_session = _Session()
        return conn._rct_session


def _execute(self: FakeSnowflakeCursor, command: str, *args: Any, **kwargs: Any) -> FakeSnowflakeCursor:
    state = _session(self._conn)
    # Snowflake runs `<statement>;  -- a comment` as the statement; fakesnow runs the comment as a
    # second, empty statement and answers with its result (a DML statement then fails to describe)
    if (end := _TRAILING_COMMENTS.search(command)) and command.count("'", 0, end.start()) % 2 == 0:
        command = command[: end.start()]  # the `;` is outside a string literal
    head = _LEADING_COMMENTS.sub("", command, count=1)
    with _activity:
        _activity.running += 1
    try:
        return _execute_in_session(self, state, command, head, *args, **kwargs)
    finally:
        with _activity:
            _activity.running -= 1
            _activity.last_end = time.monotonic()


def _execute_in_session(
    self: FakeSnowflakeCursor, state: _Session, command: str, head: str, *args: Any, **kwargs: Any
) -> FakeSnowflakeCursor:
    with state.lock:
        state.last_active = time.monotonic()
        if state.aborted:
            state.aborted = False
            if not (_BEGIN.match(head) or _ROLLBACK.match(head)):
                raise snowflake.connector.errors.ProgrammingError(
                    msg="this session's transaction was aborted: it was idle too long (its client had gone?)",
                    errno=625,
                    sqlstate="57014",
                )
        try:
            if TRACE and not state.profiling:
                self._duck_conn.execute("set enable_profiling = 'no_output'")
                state.profiling = True
            began = (time.perf_counter(), time.thread_time())
            if TRACE:
                self._rct_scans = []  # filled by _execute_part
            result = _original_execute(self, command, *args, **kwargs)
            if TRACE:
                _trace(began, self, head)
        except duckdb.TransactionException as exc:
            if "conflict" not in str(exc).lower():
                raise
            # Snowflake would make this statement wait for the other transaction's lock; DuckDB
            # has aborted this transaction already. Answer with an SQL error, not HTTP 500, which
            # the connector would retry for minutes against a transaction that cannot go on.
            raise snowflake.connector.errors.ProgrammingError(
                msg=f"write conflict with another open transaction, this transaction is rolled back: {exc}",
                errno=625,
                sqlstate="40001",
            ) from exc
        if HOLD and HOLD_MARKER and not _held.is_set() and HOLD.search(" ".join(command.split())):
            _held.set()
            _hold(command, HOLD_MARKER)
        state.last_active = time.monotonic()
        return result


class _Activity(threading.Condition):
    """Statements running now, and when the last one ended (for the idle checkpoint)."""

    running = 0
    last_end = time.monotonic()


_activity = _Activity()


def _checkpoint_when_idle(database: str, wal: Path) -> None:
    """Write the WAL into the database file while no statement runs (see CHECKPOINT_THRESHOLD)."""
    while True:
        time.sleep(0.5)
        with _activity:
            idle = _activity.running == 0 and time.monotonic() - _activity.last_end >= CHECKPOINT_IDLE_S
        try:
            if not idle or wal.stat().st_size < CHECKPOINT_IDLE_WAL_BYTES:
                continue
        except OSError:  # no WAL yet
            continue
        started = time.monotonic()
        try:
            fakesnow_server.shared_fs.duck_conn.cursor().execute(f"checkpoint {database}")
        except duckdb.Error as exc:  # a transaction is open: the next idle moment will do
            log.info("idle checkpoint skipped: %s", exc)
            continue
        log.warning("idle checkpoint: %.1f s", time.monotonic() - started)


def _trace(began: tuple[float, float], cursor: FakeSnowflakeCursor, head: str) -> None:
    """One line per statement (the columns: point 6 of the module's doc)."""
    wall, cpu = (time.perf_counter() - began[0]) * 1000, (time.thread_time() - began[1]) * 1000
    tag = fakesnow_snowflake.session_of(cursor._conn).query_tag.replace("\t", " ")
    rows = cursor._rowcount if cursor._rowcount is not None else ""
    scans = ";".join(f"{t}:{r}:{g}/{n}" for t, r, g, n in getattr(cursor, "_rct_scans", []))
    statement = " ".join(head.split())[:160]
    with _trace_lock, open(TRACE, "a") as out:  # type: ignore[arg-type]
        out.write(
            f"{time.time():.3f}\t{wall:.1f}\t{cpu:.1f}\t{id(cursor._conn)}\t{tag}\t{rows}\t{scans}\t{statement}\n"
        )


def _scans_of_last_query(duck_conn: Any) -> list[tuple[str, int, int, int]]:
    """Table scans of the DuckDB query the connection ran last: (table, rows scanned, row groups
    read, row groups of the table), from its profile (``enable_profiling = 'no_output'``)."""
    import json

    try:
        profile = json.loads(duck_conn.get_profiling_information(format="json"))
    except (duckdb.Error, ValueError):
        return []
    found: list[tuple[str, int, int, int]] = []
    stack = list(profile.get("operator") or [])
    while stack:
        node = stack.pop()
        stack.extend(node.get("children") or [])
        if "rows_scanned" in node and (table := (node.get("extra_info") or {}).get("Table")):
            groups = (node.get("row_groups_scanned", 0), node.get("total_row_groups_to_scan", 0))
            found.append((table, node["rows_scanned"], *groups))
    return found


class _ProfiledConnection:
    """A session's DuckDB connection that notes the table scans of each query it runs (their
    profile is gone once the result is fetched, so it is read right after ``execute``)."""

    def __init__(self, conn: Any, scans: list[tuple[str, int, int, int]]) -> None:
        self._conn, self._scans = conn, scans

    def execute(self, *args: Any, **kwargs: Any) -> _ProfiledConnection:
        self._conn.execute(*args, **kwargs)
        self._scans.extend(_scans_of_last_query(self._conn))
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def _execute_part(self: FakeSnowflakeCursor, *args: Any, **kwargs: Any) -> Any:
    """fakesnow's execution of one DuckDB statement (a MERGE is several), its scans noted."""
    scans = getattr(self, "_rct_scans", None)
    if scans is None:
        return _original_execute_part(self, *args, **kwargs)
    conn = self._duck_conn
    self._duck_conn = _ProfiledConnection(conn, scans)
    try:
        return _original_execute_part(self, *args, **kwargs)
    finally:
        self._duck_conn = conn


def _hold(command: str, marker: Path) -> None:
    marker.write_text(" ".join(command.split())[:500])
    log.warning("fault point: holding the answer to %.100s until %s is removed", command, marker)
    deadline = time.monotonic() + HOLD_MAX_S
    while marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def _abort_detached_transactions() -> None:
    """Roll back explicit transactions idle for ABORT_AFTER_S (their clients are gone)."""
    while True:
        time.sleep(1)
        for conn in list(fakesnow_server.sessions.values()):
            state = _session(conn)
            if not fakesnow_snowflake.session_of(conn).explicit or time.monotonic() - state.last_active < ABORT_AFTER_S:
                continue
            if not state.lock.acquire(blocking=False):
                continue  # a statement is running: not idle
            try:
                conn._duck_conn.rollback()
            except Exception as exc:  # noqa: BLE001 - already ended by DuckDB: nothing to undo
                log.info("detached transaction already ended (%s)", exc)
            finally:
                fakesnow_snowflake.end_transaction(conn)
                state.aborted = True
                state.lock.release()
            log.warning("aborted a transaction idle for %.0f s (its client is gone?)", ABORT_AFTER_S)


fakesnow_statement_cost.apply()
FakeSnowflakeCursor.execute = _execute
_original_execute_part = FakeSnowflakeCursor._execute
if TRACE:
    FakeSnowflakeCursor._execute = _execute_part


async def _login_request(request: Any) -> Any:
    """fakesnow's login, passing on what it drops: the user, the role and every session parameter
    (TIMEZONE, LOCK_TIMEOUT...), as Snowflake's login takes them."""
    import gzip
    import json

    from fakesnow.expr import normalise_ident
    from starlette.responses import JSONResponse

    body = await request.body()
    if request.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    data = json.loads(body)["data"]
    session_parameters = data.get("SESSION_PARAMETERS") or {}
    database = (d := request.query_params.get("databaseName")) and normalise_ident(d)
    schema = (s := request.query_params.get("schemaName")) and normalise_ident(s)
    autocommit = session_parameters.get("AUTOCOMMIT", True)
    token = secrets.token_urlsafe(32)
    try:
        fakesnow_server.sessions[token] = fakesnow_server.shared_fs.connect(
            database,
            schema,
            autocommit=autocommit,
            user=data.get("LOGIN_NAME"),
            role=request.query_params.get("roleName"),
            session_parameters=session_parameters,
        )
    except snowflake.connector.errors.ProgrammingError as exc:  # refused, as Snowflake refuses a login
        code = f"{exc.errno:06d}"
        return JSONResponse({"data": {"errorCode": code}, "code": code, "message": exc.msg, "success": False})
    return JSONResponse(
        {
            "data": {
                "token": token,
                "serverVersion": fakesnow_server.SERVER_VERSION,
                "parameters": [
                    {"name": "AUTOCOMMIT", "value": autocommit},
                    {"name": "CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY", "value": 3600},
                    {"name": "CLIENT_STAGE_ARRAY_BINDING_THRESHOLD", "value": 0},
                ],
                "sessionInfo": {"databaseName": database, "schemaName": schema},
            },
            "success": True,
        }
    )


async def _session_request(request: Any) -> Any:
    """fakesnow's session endpoint; a session the client deletes is closed (Snowflake rolls back
    what it left open and releases its locks)."""
    from starlette.responses import JSONResponse

    token = fakesnow_server.to_token(request)
    conn = fakesnow_server.sessions.get(token)
    if conn is not None and bool(request.query_params.get("delete")):
        del fakesnow_server.sessions[token]
        with _session(conn).lock:
            conn.close()
    return JSONResponse({"data": None, "code": None, "message": None, "success": True})


def _replace_routes() -> None:
    from starlette.routing import Route

    routes = fakesnow_server.app.router.routes
    for i, route in enumerate(routes):
        if getattr(route, "path", None) == "/session/v1/login-request":
            routes[i] = Route("/session/v1/login-request", _login_request, methods=["POST"])
        elif getattr(route, "path", None) == "/session":
            routes[i] = Route("/session", _session_request, methods=["POST"])


_replace_routes()


def _recreate_stage(instance: FakeSnow, db_path: Path) -> None:
    """The file formats and stages of a warehouse already on disk (the bootstrap's own SQL)."""
    from include.config import WAREHOUSE
    from include.sql_render import STAGE_STEP, TABLE_STEPS, render_sql, statements

    if not (db_path / f"{WAREHOUSE.database}.db").exists():
        return  # a new warehouse: the setup DAG creates everything
    instance.create_database_on_connect = True  # attach the database file again (this connection only)
    try:
        cursor = instance.connect(database=WAREHOUSE.database, schema=WAREHOUSE.bronze).cursor()
    finally:
        instance.create_database_on_connect = False
    for statement in statements(render_sql(f"bootstrap/{STAGE_STEP}.sql")):
        cursor.execute(statement)
    for step in TABLE_STEPS:  # the other stages (the ML schema's)
        for statement in statements(render_sql(f"bootstrap/{step}.sql")):
            if statement.lstrip().lower().startswith("create stage"):
                cursor.execute(statement)


def main() -> None:
    parser = argparse.ArgumentParser(description="fakesnow server for the local stack")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db-path", required=True)
    args = parser.parse_args()
    fakesnow_stage_files.keep_in(Path(args.db_path) / "stages")
    fakesnow_account.keep_in(Path(args.db_path) / "account.json")  # roles, users, grants survive a restart
    # a login names a database but does not create it (Snowflake: the set-up DAG's owner role does)
    fakesnow_server.shared_fs = FakeSnow(
        db_path=args.db_path, create_database_on_connect=False, create_schema_on_connect=False
    )
    fakesnow_server.shared_fs.duck_conn.execute(f"set checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
    _recreate_stage(fakesnow_server.shared_fs, Path(args.db_path))
    threading.Thread(target=_abort_detached_transactions, name="detached-transactions", daemon=True).start()
    from include.config import WAREHOUSE

    wal = Path(args.db_path) / f"{WAREHOUSE.database}.db.wal"
    threading.Thread(
        target=_checkpoint_when_idle, args=(WAREHOUSE.database, wal), name="idle-checkpoint", daemon=True
    ).start()
    uvicorn.run(fakesnow_server.app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
