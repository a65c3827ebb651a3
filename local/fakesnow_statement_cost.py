"""Four costs the fakesnow server pays, taken off where the answer is the same.

fakesnow 0.12's server, for each statement: parses the SQL to learn its type, then the cursor
parses the same text again to run it; after running it, it describes the result by parsing
``DESCRIBE <the translated SQL>`` and having DuckDB plan that query again. The parse and the
describe run on the server's event loop, so every other session's request waits behind them.
Profiled over two scale-1 days (py-spy, 2026-12-03): of the stand-in's statement work, the
describe was 24% and the first parse 10%.

- The cursor takes the expression the server parsed from the same text instead of parsing it
  again (handed over once, by text; a text it was not handed is parsed as before).
- A result whose shape Snowflake fixes - the row counts of an INSERT, UPDATE, DELETE or MERGE,
  or the one ``status`` column of DDL and transaction statements - is described from its own
  Arrow schema; the column types are those DuckDB's DESCRIBE reports for them (checked by
  ``tests/unit/test_stand_in.py`` against the describe it replaces). Every other result (a SELECT,
  COPY, SHOW) is described as before: Arrow does not tell JSON (VARIANT) from VARCHAR.
- A MERGE reads the target through the source. fakesnow joins target and source with a FULL
  OUTER JOIN to find what each row of the source does, which reads every row group of the target
  whatever the source holds; the target rows no source row matches are then dropped (no clause of
  Snowflake's MERGE acts on them: https://docs.snowflake.com/en/sql-reference/sql/merge). Here it
  is ``target RIGHT JOIN source``: the same rows, and DuckDB can skip the target's row groups
  outside the source's key range, as Snowflake prunes micro-partitions for a join. Measured on the
  history day of ``make bench`` (docs/performance.md, issue 46).
- A MERGE's UPDATE or DELETE for a WHEN clause no candidate row takes is not run: it would join
  the whole target with the candidates to change nothing (0.2 s against a 4.2 M-row target; the
  SILVER MERGEs have a clause for records sent again unchanged that most days take none of).
"""

from __future__ import annotations

import importlib
import threading
from collections import OrderedDict
from typing import Any

import fakesnow.cursor
import fakesnow.server
import pyarrow as pa
from fakesnow.cursor import FakeSnowflakeCursor
from sqlglot import exp

# the module (fakesnow.transforms re-exports its function under the module's name)
fakesnow_merge = importlib.import_module("fakesnow.transforms.merge")

# Snowflake's result columns of DML statements (DDL and transaction control answer one "status")
COUNT_COLUMNS = frozenset(
    {
        "number of rows inserted",
        "number of rows updated",
        "number of rows deleted",
        "number of multi-joined rows updated",
    }
)
_INTEGERS = {pa.int32(): "INTEGER", pa.int64(): "BIGINT"}

_parsed: OrderedDict[str, Any] = OrderedDict()
_parsed_lock = threading.Lock()
_KEEP = 64  # texts parsed by the server and not yet run (a describe-only request never runs its text)


def _server_parse(command: str) -> Any:
    expression = _parse(command)
    with _parsed_lock:
        _parsed[command] = expression
        while len(_parsed) > _KEEP:
            _parsed.popitem(last=False)
    return expression


def _cursor_parse(command: str) -> Any:
    with _parsed_lock:
        expression = _parsed.pop(command, None)
    return expression if expression is not None else _parse(command)


def describe_from_result(table: pa.Table | None) -> list[tuple] | None:
    """DESCRIBE's rows for a row-count or status result, from its Arrow schema; None for any other."""
    if table is None or not table.num_columns:
        return None
    names = set(table.schema.names)
    if names <= COUNT_COLUMNS:
        types = []
        for field in table.schema:
            if field.type in _INTEGERS:
                types.append(_INTEGERS[field.type])
            elif pa.types.is_decimal(field.type) and field.type.scale == 0:
                types.append("HUGEINT")  # a MERGE's counts; the same rowtype as DECIMAL(38,0)
            else:
                return None
    elif names == {"status"} and table.schema.field("status").type == pa.string():
        types = ["VARCHAR"]
    else:
        return None
    return [(name, kind, "YES", None, None, None) for name, kind in zip(table.schema.names, types, strict=True)]


_parse = fakesnow.cursor.parse_one
_describe_last_sql = FakeSnowflakeCursor._describe_last_sql


def _describe(self: FakeSnowflakeCursor) -> list:
    return describe_from_result(self._arrow_table) or _describe_last_sql(self)


_merge_candidates = fakesnow_merge._create_merge_candidates


def merge_candidates_through_the_source(merge_expr: Any) -> Any:
    """fakesnow's merge candidates with ``target RIGHT JOIN source`` for its FULL OUTER JOIN."""
    candidates = _merge_candidates(merge_expr)
    joins = [j for j in candidates.find_all(exp.Join) if (j.args.get("side") or "").upper() == "FULL"]
    if len(joins) != 1:  # fakesnow changed how it builds them: keep its own
        return candidates
    joins[0].set("side", "RIGHT")
    return candidates


_mutations = fakesnow_merge._mutations
_execute = FakeSnowflakeCursor._execute
_CLAUSE = "rct_merge_clause"  # the WHEN clause a MERGE's part carries out (its merge_op)


def mutations_marked_with_their_clause(merge_expr: Any) -> list:
    """fakesnow's statements of a MERGE's clauses, each marked with its clause's index."""
    statements = _mutations(merge_expr)
    whens = merge_expr.args["whens"]
    whens = whens.expressions if isinstance(whens, exp.Whens) else list(whens)
    if len(statements) == len(whens):  # one per clause, in their order, as fakesnow 0.12 makes them
        for index, (statement, when) in enumerate(zip(statements, whens, strict=True)):
            if when.args.get("matched"):  # an UPDATE or a DELETE: it joins the target
                statement.set(_CLAUSE, index)
    return statements


def _execute_unless_no_candidate(self: FakeSnowflakeCursor, transformed: Any, *args: Any, **kwargs: Any) -> Any:
    clause = transformed.args.get(_CLAUSE)
    if (
        clause is not None
        and not self._duck_conn.execute(
            f"select 1 from merge_candidates where merge_op = {int(clause)} limit 1"  # noqa: S608 - an index
        ).fetchall()
    ):
        return None  # the MERGE's result comes from its last part, the counts
    return _execute(self, transformed, *args, **kwargs)


def apply() -> None:
    """Patch the server process's fakesnow (the in-process stand-in of the unit tests keeps its own)."""
    fakesnow_merge._create_merge_candidates = merge_candidates_through_the_source
    fakesnow_merge._mutations = mutations_marked_with_their_clause
    FakeSnowflakeCursor._execute = _execute_unless_no_candidate  # type: ignore[method-assign]
    fakesnow.server.parse_one = _server_parse
    fakesnow.cursor.parse_one = _cursor_parse
    FakeSnowflakeCursor._describe_last_sql = _describe  # type: ignore[method-assign]
