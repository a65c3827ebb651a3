"""The local Snowflake stand-in behaves like Snowflake, not like DuckDB, where the platform relies
on Snowflake's behaviour. Applied by the stand-in server (local/fakesnow_server.py) and by the
in-process warehouse of the tests (local/history.py); docs/architecture.md lists each adaptation.

1. **Session parameters** (https://docs.snowflake.com/en/sql-reference/parameters): a session
   takes TIMEZONE, LOCK_TIMEOUT and AUTOCOMMIT from its login, else Snowflake's defaults
   (America/Los_Angeles, 43200 s, true); ``ALTER SESSION SET``/``UNSET`` and ``SHOW PARAMETERS``
   work on them. ``current_timestamp()``, ``current_date()`` and a cast to ``timestamp_ntz``
   follow the session's time zone, as on Snowflake (fakesnow: always UTC).
2. **DDL in a transaction** (https://docs.snowflake.com/en/sql-reference/transactions#ddl): a DDL
   statement commits the open transaction first and runs in a transaction of its own (DuckDB
   would make it part of the transaction). A ``BEGIN`` inside a transaction is ignored.
3. **Resource locking** (https://docs.snowflake.com/en/sql-reference/transactions#resource-locking):
   UPDATE, DELETE, MERGE and TRUNCATE lock their table until their transaction ends; a second
   writer waits up to its LOCK_TIMEOUT, then fails (error 625); a deadlock fails the statement
   that closed the cycle. DuckDB instead fails the second writer at once. A transaction whose
   snapshot predates the other's commit can still be aborted by DuckDB after the wait (DuckDB's
   snapshot isolation): callers must handle both, as on Snowflake they must handle the timeout.
4. **Nondeterministic MERGE** (https://docs.snowflake.com/en/sql-reference/sql/merge, parameter
   ERROR_ON_NONDETERMINISTIC_MERGE, true by default): a MERGE that updates or deletes a target
   row joined by more than one source row fails with error 100090 (fakesnow applies one of them).
   A source with no two rows alike on the ON clause's ``t.col = s.col`` columns cannot do that,
   so the target is joined only when the source repeats such a key.
5. **Backslashes in unenclosed CSV fields**
   (https://docs.snowflake.com/en/sql-reference/sql/create-file-format, ESCAPE_UNENCLOSED_FIELD,
   default ``\\``): COPY decodes ``\\t``, ``\\n``, ``\\\\`` and an escaped delimiter in fields not
   enclosed in quotes, so a field ending in ``\\`` swallows the delimiter after it (the row then
   has a column too few: error 100080). fakesnow refuses the option and defaults to NONE.
6. **Integer division** (https://docs.snowflake.com/en/sql-reference/operators-arithmetic): where
   both operands of ``/`` are integers (known from the statement itself), the quotient is
   rounded to 6 decimals, as Snowflake's fixed-point division does (DuckDB divides in floating
   point).
7. **Snowflake's grammar** (local/snowflake_grammar.py): a statement Snowflake would not compile
   fails with a syntax error instead of running on DuckDB.
8. ``CREATE OR ALTER FILE FORMAT`` and ``ALTER FILE FORMAT ... SET`` change a file format in place
   (https://docs.snowflake.com/en/sql-reference/sql/create-file-format), keeping its grants.

Roles, users and grants are local/fakesnow_account.py's.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fakesnow.copy_into as copy_into
import fakesnow.cursor
import snowflake.connector.errors
import sqlglot
from fakesnow.conn import FakeSnowflakeConnection
from fakesnow.cursor import FakeSnowflakeCursor
from fakesnow.transforms import file_format as fakesnow_file_format
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types

from local import snowflake_grammar

log = logging.getLogger(__name__)

# Snowflake's defaults of the session parameters the platform relies on.
DEFAULTS: dict[str, Any] = {"TIMEZONE": "America/Los_Angeles", "LOCK_TIMEOUT": 43200, "AUTOCOMMIT": True}
_LEADING_COMMENTS = re.compile(r"^(\s+|--[^\n]*(\n|$)|/\*.*?\*/)*", re.DOTALL)
_DDL = re.compile(r"(create|alter|drop|undrop|comment|grant|revoke)\b(?!\s+session\b)", re.IGNORECASE)
_BEGIN = re.compile(r"(begin|start\s+transaction)\b", re.IGNORECASE)
_END = re.compile(r"(commit|rollback)\b", re.IGNORECASE)
_NAME = r"((?:\"[^\"]+\"|[\w$]+)(?:\.(?:\"[^\"]+\"|[\w$]+)){0,2})"
_LOCKING = re.compile(
    rf"(?:update|delete\s+from|merge\s+into|truncate(?:\s+table)?(?:\s+if\s+exists)?)\s+{_NAME}", re.IGNORECASE
)
_ALTER_SESSION = re.compile(r"alter\s+session\s+(set|unset)\s+(.*?)\s*;?\s*$", re.IGNORECASE | re.DOTALL)
_SHOW_PARAMETERS = re.compile(r"show\s+parameters(?:\s+like\s+'([^']*)')?(?:\s+in\s+session)?\s*;?\s*$", re.IGNORECASE)
_CREATE_OR_ALTER_FORMAT = re.compile(rf"create\s+or\s+alter\s+(file\s+format\s+{_NAME}.*)$", re.IGNORECASE | re.DOTALL)
_DROP_STAGE = re.compile(rf"drop\s+stage\s+(if\s+exists\s+)?{_NAME}\s*;?\s*$", re.IGNORECASE)
_LIST_PATH = re.compile(r"(?:list|ls)\s+@([\w$.\"]+)/(\S*?)\s*;?\s*$", re.IGNORECASE)
_ALTER_FORMAT = re.compile(
    rf"alter\s+file\s+format\s+(?:if\s+exists\s+)?{_NAME}\s+set\s+(.*)$", re.IGNORECASE | re.DOTALL
)


def _head(command: str) -> str:
    return _LEADING_COMMENTS.sub("", command, count=1)


def _error(msg: str, errno: int, sqlstate: str) -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(msg=msg, errno=errno, sqlstate=sqlstate)


@dataclass(eq=False)
class Session:
    """What the stand-in knows of one Snowflake session beyond fakesnow's connection."""

    user: str | None = None
    role: str | None = None
    parameters: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS))
    explicit: bool = False  # an explicit transaction (BEGIN) is open
    locks: set[str] = field(default_factory=set)  # tables this session's transaction holds
    secondary_roles: str | None = None  # "ALL" | "NONE"; None: the user's default (fakesnow_account)
    query_tag: str = ""  # QUERY_TAG (the statement trace names the task by it: fakesnow_server)


def session_of(conn: FakeSnowflakeConnection) -> Session:
    state = getattr(conn, "_sf_session", None)
    if state is None:
        state = conn._sf_session = Session()  # type: ignore[attr-defined]
    return state


# ------------------------------------------------------------------------------- table locks
class TableLocks:
    """Snowflake's table locks of UPDATE, DELETE, MERGE and TRUNCATE: held by a transaction until it
    ends; a writer that finds the table locked waits up to its LOCK_TIMEOUT."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._owner: dict[str, Session] = {}
        self._waiting_for: dict[int, str] = {}  # id(session) -> table

    def acquire(self, session: Session, table: str, timeout_s: float, statement: str) -> None:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            try:
                while True:
                    owner = self._owner.get(table)
                    if owner is None or owner is session:
                        self._owner[table] = session
                        session.locks.add(table)
                        return
                    if self._cycle(session, owner):
                        raise _error(
                            f"Deadlock detected: statement '{statement[:80]}' waits for table {table}, locked by a "
                            "transaction that waits for this one; this statement is aborted",
                            625,
                            "40001",
                        )
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise _error(
                            f"Statement '{statement[:80]}' reached its lock timeout ({timeout_s:g} s) waiting for "
                            f"table {table}, locked by another transaction; it was aborted",
                            625,
                            "57014",
                        )
                    self._waiting_for[id(session)] = table
                    self._changed.wait(min(remaining, 0.5))
            finally:
                self._waiting_for.pop(id(session), None)

    def _cycle(self, me: Session, owner: Session) -> bool:
        seen: set[int] = set()
        current: Session | None = owner
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            table = self._waiting_for.get(id(current))
            if table is None:
                return False
            current = self._owner.get(table)
            if current is me:
                return True
        return False

    def release(self, session: Session) -> None:
        if not session.locks:
            return
        with self._changed:
            for table in session.locks:
                if self._owner.get(table) is session:
                    del self._owner[table]
            session.locks.clear()
            self._changed.notify_all()

    def holders(self) -> dict[str, Session]:
        with self._changed:
            return dict(self._owner)


LOCKS = TableLocks()


def end_transaction(conn: FakeSnowflakeConnection) -> None:
    """The session's transaction ended (committed, rolled back, or aborted by the server)."""
    state = session_of(conn)
    state.explicit = False
    LOCKS.release(state)


def _qualified(conn: FakeSnowflakeConnection, name: str) -> str:
    parts = [p.strip('"') if p.startswith('"') else p.upper() for p in re.findall(r'"[^"]+"|[^.]+', name)]
    if len(parts) == 1:
        parts = [conn.database or "", conn.schema or "", *parts]
    elif len(parts) == 2:
        parts = [conn.database or "", *parts]
    return ".".join(parts)


# ------------------------------------------------------------------------------ the statements
_original_execute = FakeSnowflakeCursor.execute
_original_init = FakeSnowflakeConnection.__init__
_original_close = FakeSnowflakeConnection.close
# other modules' parts of a statement's life (local/fakesnow_account.py)
_extensions: list[Any] = []  # handler(cursor, session, head) -> bool: True when it answered the statement
_rewriters: list[Any] = []  # rewrite(session, command) -> command, before it runs
_after: list[Any] = []  # after(cursor, session, head), once it ran
_login_checks: list[Any] = []  # check(session), raising to refuse a login


def add_extension(handler: Any) -> None:
    if handler not in _extensions:
        _extensions.append(handler)


def add_rewriter(rewrite: Any) -> None:
    if rewrite not in _rewriters:
        _rewriters.append(rewrite)


def add_after(after: Any) -> None:
    if after not in _after:
        _after.append(after)


def add_login_check(check: Any) -> None:
    if check not in _login_checks:
        _login_checks.append(check)


def _connection_init(self: FakeSnowflakeConnection, *args: Any, **kwargs: Any) -> None:
    parameters = {str(k).upper(): v for k, v in (kwargs.get("session_parameters") or {}).items()}
    if "AUTOCOMMIT" in parameters:
        kwargs["autocommit"] = str(parameters["AUTOCOMMIT"]).lower() in ("true", "1")
    _original_init(self, *args, **kwargs)
    state = session_of(self)
    state.user = (kwargs.get("user") or "").upper() or None
    state.role = (kwargs.get("role") or "").upper() or None
    state.parameters.update({k: v for k, v in parameters.items() if k in DEFAULTS})
    state.query_tag = str(parameters.get("QUERY_TAG") or "")
    _apply_time_zone(self, str(state.parameters["TIMEZONE"]))
    for check in _login_checks:
        check(state)


def _connection_close(self: FakeSnowflakeConnection, *args: Any, **kwargs: Any) -> None:
    """A closed session's open transaction is rolled back and its locks released."""
    state = session_of(self)
    if state.explicit or state.locks or getattr(self, "_in_transaction", False):
        with suppress(Exception):
            self._duck_conn.rollback()
    end_transaction(self)
    return _original_close(self, *args, **kwargs)


def _apply_time_zone(conn: FakeSnowflakeConnection, zone: str) -> None:
    try:
        conn._duck_conn.execute(f"SET SESSION TimeZone = '{zone.replace(chr(39), '')}'")
    except Exception as exc:  # noqa: BLE001 - an unknown zone: Snowflake refuses it too
        raise _error(f"invalid value [{zone}] for parameter 'TIMEZONE'", 2043, "22023") from exc


def _answer(cursor: FakeSnowflakeCursor, rows: list[tuple], columns: list[str]) -> FakeSnowflakeCursor:
    """Answer a statement the stand-in handled itself with ``rows`` (every value text)."""
    if not rows:
        select = "select " + ", ".join(f"null::varchar as {c}" for c in columns) + " where false"
    else:
        values = ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)
        select = f"select * from (values {values}) as t({', '.join(columns)})"
    return _original_execute(cursor, select)


def _literal(value: Any) -> str:
    return "null" if value is None else "'" + str(value).replace("'", "''") + "'"


def status(cursor: FakeSnowflakeCursor, text: str = "Statement executed successfully.") -> FakeSnowflakeCursor:
    return _answer(cursor, [(text,)], ["status"])


def _session_statement(cursor: FakeSnowflakeCursor, state: Session, head: str) -> FakeSnowflakeCursor | None:
    if m := _ALTER_SESSION.match(head):
        action, rest = m[1].lower(), m[2]
        if action == "set":
            pairs = [(k.upper(), v.strip().strip("'")) for k, v in re.findall(r"(\w+)\s*=\s*('[^']*'|[^\s,]+)", rest)]
        else:
            pairs = [(k.strip().upper(), None) for k in rest.split(",")]
        ours = [(k, v) for k, v in pairs if k in ("TIMEZONE", "LOCK_TIMEOUT", "QUERY_TAG")]
        if not ours:
            return None  # fakesnow's own (AUTOCOMMIT, ...)
        for name, value in ours:
            if name == "QUERY_TAG":
                state.query_tag = value or ""
                continue
            state.parameters[name] = (
                DEFAULTS[name] if value is None else (int(value) if name == "LOCK_TIMEOUT" else value)
            )
            if name == "TIMEZONE":
                _apply_time_zone(cursor._conn, str(state.parameters[name]))
        return status(cursor)
    if m := _SHOW_PARAMETERS.match(head):
        pattern = re.compile("^" + re.escape(m[1] or "%").replace("%", ".*").replace("_", ".") + "$", re.IGNORECASE)
        autocommit = getattr(cursor._conn, "_autocommit", True)
        values = {**state.parameters, "AUTOCOMMIT": autocommit}
        rows = [
            (name, str(values[name]).lower() if name == "AUTOCOMMIT" else str(values[name]),
             str(DEFAULTS[name]).lower() if name == "AUTOCOMMIT" else str(DEFAULTS[name]),
             "SESSION" if str(values[name]) != str(DEFAULTS[name]) else "", "", "STRING")
            for name in sorted(DEFAULTS)
            if pattern.match(name)
        ]  # fmt: skip
        return _answer(cursor, rows, ["key", "value", "default", "level", "description", "type"])
    return None


def _execute(
    self: FakeSnowflakeCursor, command: str, params: Any = None, *args: Any, **kwargs: Any
) -> FakeSnowflakeCursor:
    try:
        result = _execute_as_snowflake(self, command, params, *args, **kwargs)
    except sqlglot.errors.SqlglotError as exc:
        # an error of the stand-in's own reading of the statement: answered as an SQL error, not
        # HTTP 500 (which the connector retries for minutes against a statement that cannot pass)
        raise _error(f"the local stand-in could not read this statement: {exc}", 1003, "42000") from exc
    if _after:
        state, head = session_of(self._conn), _head(command)
        for after in _after:
            after(self, state, head)
    return result


def _execute_as_snowflake(
    self: FakeSnowflakeCursor, command: str, params: Any = None, *args: Any, **kwargs: Any
) -> FakeSnowflakeCursor:
    conn = self._conn
    state = session_of(conn)
    if params is not None and not kwargs.get("binding_params"):
        # the client's own interpolation (pyformat), as fakesnow would do it next: the checks
        # below read the statement as Snowflake receives it
        command, params = self._rewrite_with_params(command, params)
    head = _head(command)
    if found := snowflake_grammar.problems(command):
        raise _error("SQL compilation error: not Snowflake SQL: " + "; ".join(found), 1003, "42000")
    if (answered := _session_statement(self, state, head)) is not None:
        return answered
    for handler in _extensions:
        if handler(self, state, head):
            return self
    for rewrite in _rewriters:
        command = rewrite(state, command)
    if re.match(r"explain\s", head, re.IGNORECASE):
        return _explain(self, _head(command)[len("explain") :].strip())
    if m := _CREATE_OR_ALTER_FORMAT.match(head):
        if state.explicit or getattr(conn, "_in_transaction", False):
            _original_execute(self, "commit")  # DDL: Snowflake commits the open transaction first
            end_transaction(conn)
        return _create_or_alter_file_format(self, m[1])
    if m := _ALTER_FORMAT.match(head):
        return _alter_file_format(self, m[1], m[2])
    if m := _LIST_PATH.match(head):
        return _list_path(self, m[1], m[2])
    if m := _DROP_STAGE.match(head):
        return _drop_stage(self, m[2], bool(m[1]))

    in_transaction = state.explicit or bool(getattr(conn, "_in_transaction", False))
    if _BEGIN.match(head):
        if in_transaction:
            return status(self)  # "a BEGIN inside a transaction is ignored"
        result = _original_execute(self, command, params, *args, **kwargs)
        state.explicit = True
        return result
    if _END.match(head):
        try:
            return _original_execute(self, command, params, *args, **kwargs)
        finally:
            end_transaction(conn)
    if _DDL.match(head) and in_transaction:
        _original_execute(self, "commit")  # Snowflake commits the open transaction before any DDL
        end_transaction(conn)
        in_transaction = False

    if m := _LOCKING.match(head):
        LOCKS.acquire(state, _qualified(conn, m[1]), float(state.parameters["LOCK_TIMEOUT"]), " ".join(head.split()))
    try:
        if head[:5].lower() == "merge":
            _check_merge_is_deterministic(self, command, params)
        if "/" in head:
            command = _round_integer_division(command)
        return _original_execute(self, command, params, *args, **kwargs)
    finally:
        autocommit = getattr(conn, "_autocommit", True)
        if autocommit and not state.explicit:
            LOCKS.release(state)  # a statement of its own: its lock ends with it


def _explain(cursor: FakeSnowflakeCursor, statement: str) -> FakeSnowflakeCursor:
    """EXPLAIN compiles a statement without running it (https://docs.snowflake.com/en/sql-reference/sql/explain):
    fakesnow would hand the Snowflake text to DuckDB untranslated; here it is translated as fakesnow
    translates a statement it runs, and DuckDB plans each part (a MERGE is several)."""
    expression = fakesnow.cursor.parse_one(statement)
    if not isinstance(expression, (exp.Select, exp.Union, exp.Insert, exp.Update, exp.Delete, exp.Merge)):
        raise _error(f"EXPLAIN supports queries and DML, not {statement.split()[0].upper()}", 1003, "42000")
    cursor.check_db_and_schema(expression)
    plans = []
    parts = cursor._transform_explode(expression)
    if isinstance(expression, exp.Merge):
        parts = parts[:1]  # the join of target and source; the rest reads fakesnow's own temporary table
    for part in parts:
        transformed = cursor._transform(part, None)
        if isinstance(transformed, exp.Create) and transformed.expression is not None:
            transformed = transformed.expression  # plan the query, create nothing
        try:
            rows = cursor._conn._duck_conn.execute("explain " + transformed.sql(dialect="duckdb")).fetchall()
        except Exception as exc:  # noqa: BLE001 - a statement that does not compile, as Snowflake says it
            raise _error(f"SQL compilation error:\n{str(exc).splitlines()[0]}", 2003, "42S02") from exc
        plans.extend(str(row[-1]) for row in rows)
    return _answer(cursor, [("GlobalStats", "\n".join(plans))], ["step", "operation"])


# ---------------------------------------------------------------------------- MERGE determinism
def _check_merge_is_deterministic(cursor: FakeSnowflakeCursor, command: str, params: Any) -> None:
    """Fail a MERGE that would update or delete a target row joined by several source rows."""
    try:
        merge = sqlglot.parse_one(command, read="snowflake")
    except sqlglot.errors.SqlglotError:
        return  # fakesnow reports it
    if not isinstance(merge, exp.Merge):
        return
    whens = merge.args.get("whens")
    clauses = whens.expressions if isinstance(whens, exp.Whens) else []
    if not any(w.args.get("matched") and not isinstance(w.args.get("then"), exp.Insert) for w in clauses):
        return  # inserts only: a duplicate source row inserts twice, which is deterministic
    target, source, on = merge.this, merge.args.get("using"), merge.args.get("on")
    if target is None or source is None or on is None:
        return
    target_alias = target.alias_or_name
    more_than_one = exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1))
    probe = cursor._conn.cursor()
    with_ = merge.args.get("with")

    def found(check: exp.Select) -> bool:
        if with_ is not None:
            check.set("with", with_.copy())
        _original_execute(probe, check.sql(dialect="snowflake"), params)
        return bool(probe.fetchall())

    # A target row matches source rows that agree with it on every `t.col = s.col` of the ON clause,
    # so when no two source rows agree on those source columns, none is matched twice: a look at the
    # source alone (0.05 s for a SILVER MERGE's 225,000 rows, against 0.3-0.4 s for the join of
    # the probe below with a 4.2 M-row target). Otherwise the probe decides. (Values a join casts
    # to equal but the GROUP BY keeps apart, '1' and '01' against a number, would slip past it.)
    if keys := _source_keys(on, target_alias, source.alias_or_name):
        distinct = exp.select(exp.Literal.number(1)).from_(source.copy()).group_by(*keys).having(more_than_one).limit(1)
        if not found(distinct):
            return
    check = (
        exp.select(exp.Literal.number(1))
        .from_(target.copy())
        .join(source.copy(), on=on.copy(), join_type="inner")
        .group_by(exp.column("rowid", table=target_alias))
        .having(more_than_one)
        .limit(1)
    )
    if found(check):
        raise _error(
            f"Duplicate row detected during DML action: a row of {target.sql(dialect='snowflake')} is joined by "
            "more than one source row (ERROR_ON_NONDETERMINISTIC_MERGE)",
            100090,
            "42P18",
        )


def _source_keys(on: exp.Expression, target: str, source: str) -> list[exp.Column]:
    """The source columns the ON clause equates with target columns (``t.a = s.b`` conjuncts)."""
    keys = []
    for condition in on.flatten() if isinstance(on, exp.And) else [on]:
        if not isinstance(condition, exp.EQ):
            continue
        sides = [condition.this, condition.expression]
        if not all(isinstance(side, exp.Column) for side in sides):
            continue
        tables = [side.table for side in sides]
        if sorted(tables) == sorted([target, source]) and target != source:
            keys.append(sides[tables.index(source)].copy())
    return keys


# ---------------------------------------------------------------------------- integer division
_INTEGERS = {
    exp.DataType.Type.TINYINT, exp.DataType.Type.SMALLINT, exp.DataType.Type.INT, exp.DataType.Type.BIGINT,
    exp.DataType.Type.UBIGINT, exp.DataType.Type.UINT, exp.DataType.Type.INT128,
}  # fmt: skip


def _integer(node: exp.Expression) -> bool:
    kind = node.type
    if kind is None:
        return False
    if kind.this in _INTEGERS:
        return True
    if kind.this == exp.DataType.Type.DECIMAL:
        scale = kind.expressions[1] if len(kind.expressions) > 1 else None
        return scale is not None and str(scale.this) == "0"
    return False


def _round_integer_division(command: str) -> str:
    """Integer / integer rounded to 6 decimals, as Snowflake divides fixed-point numbers."""
    try:
        tree = sqlglot.parse_one(command, read="snowflake")
    except sqlglot.errors.SqlglotError:
        return command
    if not any(True for _ in tree.find_all(exp.Div)):
        return command
    annotated = annotate_types(tree.copy(), dialect="snowflake")
    changed = False
    for div in list(annotated.find_all(exp.Div)):
        if _integer(div.this) and _integer(div.expression):
            div.replace(exp.Round(this=div.copy(), decimals=exp.Literal.number(6)))
            changed = True
    return annotated.sql(dialect="snowflake") if changed else command


# ------------------------------------------------------------------------------ file formats
def _create_or_alter_file_format(cursor: FakeSnowflakeCursor, rest: str) -> FakeSnowflakeCursor:
    """CREATE OR ALTER FILE FORMAT: the format as stated, in place of the old one (grants kept)."""
    _original_execute(cursor, f"create or replace {rest}")
    return status(cursor, "Statement executed successfully.")


def _alter_file_format(cursor: FakeSnowflakeCursor, name: str, settings: str) -> FakeSnowflakeCursor:
    """ALTER FILE FORMAT ... SET: the stated options change, the others stay."""
    conn = cursor._conn
    database, schema, format_name = _qualified(conn, name).split(".")
    probe = conn._duck_conn.cursor()
    row = probe.execute(
        "select options from _fs_global._fs_information_schema._fs_file_formats "
        "where database_name = ? and schema_name = ? and name = ?",
        (database, schema, format_name),
    ).fetchone()
    if row is None:
        raise _error(f"File format '{format_name}' does not exist or not authorized.", 2003, "02000")
    from fakesnow.transforms.options import parse_options

    changed = sqlglot.parse_one(f"create file format x {settings}", read="snowflake")
    options = {**json.loads(row[0]), **parse_options(changed.args.get("properties") or [])}
    probe.execute(
        "update _fs_global._fs_information_schema._fs_file_formats set options = ? "
        "where database_name = ? and schema_name = ? and name = ?",
        (json.dumps(options), database, schema, format_name),
    )
    return status(cursor)


def _drop_stage(cursor: FakeSnowflakeCursor, name: str, if_exists: bool) -> FakeSnowflakeCursor:
    """DROP STAGE (fakesnow has none): the stage goes from the catalog; its files stay on disk."""
    database, schema, stage = _qualified(cursor._conn, name).split(".")
    deleted = (
        cursor._conn._duck_conn.cursor()
        .execute(
            "delete from _fs_global._fs_information_schema._fs_stages "
            "where database_name = ? and schema_name = ? and upper(name) = ? returning name",
            (database, schema, stage),
        )
        .fetchall()
    )
    if not deleted and not if_exists:
        raise _error(f"Stage '{database}.{schema}.{stage}' does not exist or not authorized.", 2003, "02000")
    return status(cursor, f"{stage} successfully dropped.")


def _list_path(cursor: FakeSnowflakeCursor, stage: str, path: str) -> FakeSnowflakeCursor:
    """LIST @stage/path: the stage's files below the path (fakesnow lists only a whole stage)."""
    _original_execute(cursor, f"list @{stage}")
    rows = [row for row in cursor.fetchall() if str(row[0]).split("/", 1)[-1].startswith(path)]
    return _answer(cursor, [tuple(str(v) for v in row) for row in rows], ["name", "size", "md5", "last_modified"])


# ------------------------------------------------------------------- CSV escapes (COPY INTO)
_original_handle_csv = copy_into.handle_csv
_decoded_files = threading.local()


@dataclass
class ReadEscapedCSV(copy_into.ReadCSV):
    """DuckDB's read_csv over a copy of the file with Snowflake's unenclosed-field escapes decoded."""

    escape: str = "\\"
    enclosed_by: str = ""

    def read_expression(self, url: str) -> Any:
        decoded = _decode_escapes(Path(copy_into.stage.file_path(url)), self)
        # the decoded copy is a plain CSV: every field enclosed, quotes doubled, nothing escaped
        plain = copy_into.ReadCSV(
            skip_header=0, quote='"', sep=self.sep, null_if=["\x00rct-null\x00"], compression=None
        )
        return plain.read_expression(str(decoded))


def _handle_csv(options: dict[str, Any]) -> copy_into.ReadCSV:
    options = dict(options)
    escape = str(options.pop("ESCAPE_UNENCLOSED_FIELD", "\\"))
    read = _original_handle_csv(options)
    if escape.upper() == "NONE":
        return read
    enclosed = str(options.get("FIELD_OPTIONALLY_ENCLOSED_BY", "NONE"))
    return ReadEscapedCSV(
        skip_header=read.skip_header,
        quote=read.quote,
        sep=read.sep,
        null_if=read.null_if,
        compression=read.compression,
        escape=escape.encode().decode("unicode_escape") if escape.startswith("\\\\") else escape,
        enclosed_by="" if enclosed.upper() == "NONE" else enclosed,
    )


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "0": "\0", "\\": "\\"}


def split_escaped(text: str, sep: str, quote: str, escape: str) -> list[list[str | None]]:
    """Snowflake's reading of a CSV text with ESCAPE_UNENCLOSED_FIELD = ``escape``: records of
    fields, each the decoded text (None for an empty unenclosed field)."""
    records: list[list[str | None]] = []
    fields: list[str | None] = []
    value: list[str] = []
    enclosed = in_quotes = started = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if in_quotes:
            if ch == quote:
                if i + 1 < n and text[i + 1] == quote:
                    value.append(quote)
                    i += 2
                    continue
                in_quotes = False
            else:
                value.append(ch)
            i += 1
            continue
        if quote and ch == quote and not started:
            in_quotes = enclosed = started = True
            i += 1
            continue
        if ch == escape and i + 1 < n:
            nxt = text[i + 1]
            value.append(_ESCAPES.get(nxt, nxt))  # an escaped delimiter or line end is data
            started = True
            i += 2
            continue
        if ch == sep or ch == "\n":
            fields.append("".join(value) if (value or enclosed) else None)
            value, enclosed, started = [], False, False
            if ch == "\n":
                records.append(fields)
                fields = []
            i += 1
            continue
        if ch == "\r" and i + 1 < n and text[i + 1] == "\n":
            i += 1
            continue
        value.append(ch)
        started = True
        i += 1
    if value or fields or enclosed:
        fields.append("".join(value) if (value or enclosed) else None)
        records.append(fields)
    return records


def _decode_escapes(path: Path, read: ReadEscapedCSV) -> Path:
    records = split_escaped(path.read_text(encoding="utf-8"), read.sep, read.enclosed_by, read.escape)[
        read.skip_header :
    ]
    widths = {len(r) for r in records}
    if len(widths) > 1:
        first = records[0] if records else []
        bad = next(k for k, r in enumerate(records, start=read.skip_header + 1) if len(r) != len(first))
        raise _error(
            f"Number of columns in file ({len(records[bad - read.skip_header - 1])}) does not match that of the "
            f"corresponding table ({len(first)}), use file format option error_on_column_count_mismatch=false "
            f"to ignore this error\n  File '{path.name}', line {bad + 1}",
            100080,
            "22000",
        )
    folder = getattr(_decoded_files, "folder", None) or tempfile.mkdtemp(prefix="rct-copy-")
    _decoded_files.folder = folder
    target = Path(folder) / f"{len(os.listdir(folder))}-{path.name}"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    nulls = read.null_if or []
    for record in records:
        writer.writerow(["\x00rct-null\x00" if v is None or v in nulls else v for v in record])
    target.write_text(out.getvalue(), encoding="utf-8")
    return target


_original_copy_into = fakesnow.cursor.copy_into


def _copy_into(*args: Any, **kwargs: Any) -> Any:
    try:
        return _original_copy_into(*args, **kwargs)
    finally:
        folder = getattr(_decoded_files, "folder", None)
        _decoded_files.folder = None
        if folder:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------------------------- apply
_applied = False


def apply() -> None:
    """Patch this process's fakesnow (idempotent)."""
    global _applied
    if _applied:
        return
    _applied = True
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its "falling back to a command" warnings
    FakeSnowflakeConnection.__init__ = _connection_init  # type: ignore[method-assign]
    FakeSnowflakeConnection.close = _connection_close  # type: ignore[method-assign]
    FakeSnowflakeCursor.execute = _execute  # type: ignore[method-assign]
    fakesnow_file_format.CSV_DEFAULT_OPTIONS["ESCAPE_UNENCLOSED_FIELD"] = "\\"
    copy_into.handle_csv = _handle_csv
    fakesnow.cursor.copy_into = _copy_into


@contextmanager
def applied() -> Iterator[None]:
    apply()
    yield
