"""Render the templated SQL files under include/sql with the same names the DAGs use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from include.config import LANDING, ROLES, USERS, WAREHOUSE
from include.contracts import load_contract

SQL_DIR = Path(__file__).with_name("sql")
# The warehouse set-up, in order: every numbered file of include/sql/bootstrap/.
BOOTSTRAP_STEPS = tuple(sorted(p.stem for p in (SQL_DIR / "bootstrap").glob("[0-9][0-9]_*.sql")))
STAGE_STEP = "01_file_format_and_stage"
# The set-up without the file format and stage: the tables, views and seed rows (what an in-process
# warehouse needs, and what re-seeds an emptied one).
TABLE_STEPS = tuple(step for step in BOOTSTRAP_STEPS if step != STAGE_STEP)

# Exposed to every SQL template, in Python tasks and in SQL operators (user_defined_macros).
SQL_GLOBALS: dict[str, Any] = {
    "wh": WAREHOUSE,
    "landing": LANDING,
    "roles": ROLES,
    "users": USERS,
    "contract": load_contract(),
}

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(SQL_DIR),
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # noqa: S701 - SQL
)
_ENV.globals.update(SQL_GLOBALS)


def render_sql(path: str, **context: Any) -> str:
    return _ENV.get_template(path).render(**context)


def statements(sql: str) -> list[str]:
    """Split rendered SQL into statements with the Snowflake connector's own splitter (the one
    ``SnowflakeHook.run(split_statements=True)`` uses), dropping comment-only chunks."""
    from io import StringIO

    from snowflake.connector.util_text import split_statements

    return [
        statement
        for statement, _ in split_statements(StringIO(sql), remove_comments=True)
        if statement.strip().rstrip(";").strip()
    ]


def table_statements() -> list[str]:
    """The set-up's statements without the stage (TABLE_STEPS), rendered and split, in order."""
    return [statement for step in TABLE_STEPS for statement in statements(render_sql(f"bootstrap/{step}.sql"))]
