"""Render the templated SQL files under include/sql with the same names the DAGs use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from include.config import LANDING, WAREHOUSE
from include.contracts import load_contract

SQL_DIR = Path(__file__).with_name("sql")
# The warehouse set-up, in order: every numbered file of include/sql/bootstrap/.
BOOTSTRAP_STEPS = tuple(sorted(p.stem for p in (SQL_DIR / "bootstrap").glob("[0-9][0-9]_*.sql")))

# Exposed to every SQL template, in Python tasks and in SQL operators (user_defined_macros).
SQL_GLOBALS: dict[str, Any] = {"wh": WAREHOUSE, "landing": LANDING, "contract": load_contract()}

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(SQL_DIR),
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # noqa: S701 - SQL
)
_ENV.globals.update(SQL_GLOBALS)


def render_sql(path: str, **context: Any) -> str:
    return _ENV.get_template(path).render(**context)


def split_statements(sql: str) -> list[str]:
    """Split rendered SQL into statements; whole-line comments are dropped first.

    Our SQL files never put ';' inside a literal or an inline comment.
    """
    code = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [chunk.strip() for chunk in code.split(";") if chunk.strip()]
