"""SQL lint: every template, rendered as the platform renders it (include/sql_inventory.py, one
rendering each, each bind placeholder read as a string literal), passes sqlfluff with the
Snowflake dialect and the rules of .sqlfluff (one alias convention, lower case, no ambiguity).

    .venv/bin/python -m pytest tests/unit/test_sql_lint.py     # or: make lint-sql
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from include.sql_inventory import Rendering, every_variant

DAY = date(2026, 3, 2)
CONFIG = Path(__file__).resolve().parents[2] / ".sqlfluff"
PLACEHOLDER = re.compile(r"%\(\w+\)s|%s")  # the connector's pyformat binds: the task's values, not our SQL


def _one_rendering_each() -> list[Rendering]:
    seen: dict[str, Rendering] = {}
    for rendering in every_variant(DAY):
        seen.setdefault(rendering.template, rendering)
    return list(seen.values())


@pytest.fixture(scope="module")
def linter():
    from sqlfluff.core import FluffConfig, Linter

    return Linter(config=FluffConfig.from_path(str(CONFIG.parent)))


def test_the_config_is_the_snowflake_dialect_with_explicit_aliases(linter) -> None:
    config = linter.config
    assert config.get("dialect") == "snowflake"
    assert config.get("aliasing", section=["rules", "aliasing.table"]) == "explicit"
    bad = "select o.order_id, count(*) n from retail_db.silver.orders o group by 1"
    codes = {v.rule_code() for v in linter.lint_string(bad + "\n").get_violations()}
    assert {"AL01", "AL02"} <= codes, "an implicit alias must be caught"


@pytest.mark.parametrize("rendering", _one_rendering_each(), ids=lambda r: r.template)
def test_every_template_passes_the_lint(linter, rendering: Rendering) -> None:
    sql = "\n".join(PLACEHOLDER.sub("'bound'", s) + ";" for s in rendering.statements()) + "\n"
    lines = sql.splitlines()
    problems = [
        f"{v.rule_code()} {v.desc()} | {lines[v.line_no - 1].strip()[:120] if v.line_no else ''}"
        for v in linter.lint_string(sql).get_violations()
    ]
    assert problems == [], f"{rendering.template}:\n" + "\n".join(problems)
