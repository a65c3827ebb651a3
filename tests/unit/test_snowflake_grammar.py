"""The Snowflake grammar gate: every statement the platform can send is Snowflake SQL.

The gate (local/snowflake_grammar.py) runs here on every template rendered in every variant
(include/sql_inventory.py), with its bind values as the connector interpolates them; the local
stand-in applies the same gate to every statement the integration tier sends it, failing the
statement (tests/unit/test_stand_in_snowflake.py shows it refusing one).
"""

from __future__ import annotations

from datetime import date

import pytest

from include import sql_inventory
from local.snowflake_grammar import lint, problems

DAY = date(2026, 3, 2)
SENT = list(sql_inventory.sent(DAY))


def test_every_template_is_in_the_inventory() -> None:
    listed = {r.template for r in sql_inventory.every_variant(DAY)}
    assert sql_inventory.templates() - listed == set()
    assert len(SENT) > 500, "every variant of every template"


@pytest.mark.parametrize(
    ("template", "statements"),
    sorted({r.template: [s for rr, s in SENT if rr.template == r.template] for r, _ in SENT}.items()),
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_statement_is_snowflake_sql(template: str, statements: list[str]) -> None:
    found = {problem for statement in statements for problem in (*problems(statement), *lint(statement))}
    assert not found, f"{template}: {sorted(found)}"


@pytest.mark.parametrize(
    "statement",
    [
        "select epoch_ms(1)",  # DuckDB's, not Snowflake's
        "select list_value(1, 2)",
        "select strftime(current_date, '%Y')",
        "select x from read_csv('f.csv')",
        "select columns('a.*') from t",
        "select 1::hugeint",
        "pragma table_info('t')",
        "install httpfs",
    ],
)
def test_a_duckdb_only_construct_fails_the_gate(statement: str) -> None:
    assert problems(statement)


def test_an_integer_cut_from_a_division_fails_the_lint() -> None:
    """Snowflake rounds an integer division to 6 decimals: floor(5 * (rank - 1) / n) is one too
    high for a boundary customer from about 2 million customers (the old RFM view)."""
    assert lint("select floor(5 * (rank() over (order by x) - 1) / count(*) over ()) from t")
    assert lint("select 1 + floor((a / b)) from t")
    assert not lint("select 1 + iff(5 * worse >= n, 1, 0) from t")
    assert not problems("select floor(a / b) from t"), "Snowflake compiles it: a lint, not a grammar error"


@pytest.mark.parametrize(
    "statement",
    [
        "grant select on all tables in schema D.S to role R",
        "create or alter file format D.S.F type = csv escape_unenclosed_field = none null_if = ()",
        "show grants to role R",
        "alter session set timezone = 'UTC'",
        "use secondary roles none",
        "explain select 1",
        "create user if not exists U type = service default_role = R default_secondary_roles = ()",
    ],
)
def test_snowflake_commands_sqlglot_does_not_model_pass(statement: str) -> None:
    assert not problems(statement)
