"""fakesnow 0.12 fix, applied on import: COPY of a CSV file with ten or more columns.

fakesnow turns ``COPY INTO t (c1, ..., cN)`` into ``SELECT column0, ...`` over DuckDB's
``read_csv``, but DuckDB zero-pads generated names once a file has ten or more columns
(``column00`` .. ``column12``), so COPY of a wide file fails with a binder error. The selected
columns are renamed to DuckDB's padding. Imported by the stand-in server (local/fakesnow_server.py)
and by the in-process warehouse of the tests (local/history.py).
"""

from __future__ import annotations

import re
from typing import Any

import fakesnow.copy_into as copy_into
from sqlglot import exp

_GENERATED = re.compile(r"column(\d+)")
_original_inserts = getattr(copy_into._inserts, "__wrapped__", copy_into._inserts)


def _inserts_with_duckdb_names(expr: exp.Copy, params: Any, urls: list[str], parquet_info: Any = None) -> list[Any]:
    inserts = _original_inserts(expr, params, urls, parquet_info)
    target = expr.this
    width = len(str(len(target.expressions) - 1)) if isinstance(target, exp.Schema) and target.expressions else 1
    if width > 1:
        for insert in inserts:
            for col in insert.expression.expressions:
                m = isinstance(col, exp.Column) and _GENERATED.fullmatch(col.name)
                if m:
                    col.set("this", exp.Identifier(this=f"column{int(m[1]):0{width}d}"))
    return inserts


_inserts_with_duckdb_names.__wrapped__ = _original_inserts  # type: ignore[attr-defined]
copy_into._inserts = _inserts_with_duckdb_names
