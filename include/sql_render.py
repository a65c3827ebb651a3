"""Render the templated SQL files under include/sql with the same names the DAGs use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import jinja2

from include.config import LANDING, ROLES, USERS, WAREHOUSE
from include.contracts import load_contract
from include.declarations import columns, declared, references

SQL_DIR = Path(__file__).with_name("sql")
# The warehouse set-up, in order: every numbered file of include/sql/bootstrap/.
BOOTSTRAP_STEPS = tuple(sorted(p.stem for p in (SQL_DIR / "bootstrap").glob("[0-9][0-9]_*.sql")))
STAGE_STEP = "01_file_format_and_stage"
# The set-up without the file format and stage: the tables, views and seed rows (what an in-process
# warehouse needs, and what re-seeds an emptied one).
TABLE_STEPS = tuple(step for step in BOOTSTRAP_STEPS if step != STAGE_STEP)

# The tables a rendering names through ref(), while ``referencing()`` records them.
_REFERENCED: ContextVar[set[str] | None] = ContextVar("referenced", default=None)
LAYERS = ("bronze", "silver", "model", "gold", "gold_stage", "ml", "audit")


def ref(name: str) -> str:
    """``'<layer>.<object>'`` as the SQL names it: ``database.schema.object`` (the schema of the
    layer from the configuration). The only way a template names a table, view, stage or file
    format: the graph of what each step reads and writes (include/transform/graph.py) comes from
    these calls."""
    layer, _, obj = name.partition(".")
    if layer not in LAYERS or not obj:
        raise ValueError(f"ref({name!r}): '<layer>.<object>' with a layer of {', '.join(LAYERS)}")
    if (seen := _REFERENCED.get()) is not None:
        seen.add(f"{layer}.{obj.upper()}")
    return f"{WAREHOUSE.database}.{getattr(WAREHOUSE, layer)}.{obj}"


def schema(layer: str) -> str:
    """A layer's schema as the SQL names it (``database.schema``), for schema-wide statements."""
    if layer not in LAYERS:
        raise ValueError(f"schema({layer!r}): one of {', '.join(LAYERS)}")
    return f"{WAREHOUSE.database}.{getattr(WAREHOUSE, layer)}"


@contextmanager
def referencing() -> Iterator[set[str]]:
    """Inside the block, every ``ref()`` a rendering makes is added to the yielded set."""
    seen: set[str] = set()
    token = _REFERENCED.set(seen)
    try:
        yield seen
    finally:
        _REFERENCED.reset(token)


# Exposed to every SQL template, in Python tasks and in SQL operators (user_defined_macros).
SQL_GLOBALS: dict[str, Any] = {
    "ref": ref,
    "schema": schema,
    "layers": LAYERS,
    "declared": declared,
    "columns": columns,
    "references": references,
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


def template_names(prefix: str = "") -> list[str]:
    """The SQL templates below ``prefix`` (e.g. ``"model/"``), as the renderer finds them."""
    return [name for name in _ENV.list_templates(extensions=["sql"]) if name.startswith(prefix)]


def render_text(text: str, **context: Any) -> str:
    """A template given as text (a migration script read from its file), with the same globals."""
    return _ENV.from_string(text).render(**context)


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
