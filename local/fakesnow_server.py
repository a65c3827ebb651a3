"""Start the fakesnow server (the local Snowflake stand-in) with two fixes applied.

1. Persistence: in server mode fakesnow 0.12 ignores ``-d`` and keeps every database in memory.
   Here the server's shared instance attaches each database from ``<dir>/<DATABASE>.db``, so
   warehouse tables survive ``make down``/``make up``. Stages and file formats live in
   fakesnow's in-memory global catalog: the setup DAG creates them, and this server re-creates
   them when it starts on an existing warehouse (a restart after a crash keeps them, as Snowflake
   does; tests/integration/test_run_log.py kills and restarts the server mid-run).

2. Wide files: fakesnow 0.12 turns ``COPY INTO t (c1, ..., cN)`` into ``SELECT column0, ...``
   over DuckDB's ``read_csv``, but DuckDB zero-pads generated names once a file has ten or more
   columns (``column00`` .. ``column12``), so COPY of a wide file fails with a binder error.
   The selected columns are renamed to DuckDB's padding.

    python local/fakesnow_server.py --host 127.0.0.1 --port 9101 --db-path var/stack/snowflake
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import fakesnow.copy_into as copy_into
import fakesnow.server as fakesnow_server
import uvicorn
from fakesnow.instance import FakeSnow
from sqlglot import exp

_original_inserts = copy_into._inserts
_GENERATED = re.compile(r"column(\d+)")


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


copy_into._inserts = _inserts_with_duckdb_names


def _recreate_stage(instance: FakeSnow, db_path: Path) -> None:
    """The file format and stage of a warehouse already on disk (the bootstrap's own SQL)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from include.config import WAREHOUSE
    from include.sql_render import render_sql, statements

    if not (db_path / f"{WAREHOUSE.database}.db").exists():
        return  # a new warehouse: the setup DAG creates everything
    cursor = instance.connect(database=WAREHOUSE.database, schema=WAREHOUSE.bronze).cursor()
    for statement in statements(render_sql("bootstrap/01_file_format_and_stage.sql")):
        cursor.execute(statement)


def main() -> None:
    parser = argparse.ArgumentParser(description="fakesnow server for the local stack")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db-path", required=True)
    args = parser.parse_args()
    fakesnow_server.shared_fs = FakeSnow(db_path=args.db_path)
    _recreate_stage(fakesnow_server.shared_fs, Path(args.db_path))
    uvicorn.run(fakesnow_server.app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
