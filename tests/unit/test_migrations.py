"""Schema migrations (include/migrations.py): an existing warehouse follows the declarations. A
declared column it lacks is added and recorded once; a column no declaration has, or a changed
type, is refused before anything changes; a versioned script runs once, is recorded with its
checksum and may not change after; a fresh warehouse records the scripts as its baseline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from include import migrations
from include.migrations import MigrationRefused
from include.sql_render import render_sql, statements, table_statements

SKELETON = statements(render_sql("bootstrap/00_database_and_schemas.sql"))


@pytest.fixture
def cur() -> Iterator[Any]:
    import fakesnow
    import snowflake.connector

    from local import fakesnow_snowflake

    fakesnow_snowflake.apply()
    with fakesnow.patch():
        yield snowflake.connector.connect().cursor()


def _set_up(cur: Any) -> None:
    """The set-up DAG's order: the skeleton with the ledger, migrate, the bootstrap."""
    for statement in table_statements():
        cur.execute(statement)


def _ledger(cur: Any) -> list[tuple]:
    cur.execute(
        "select kind, version, script, statement from RETAIL_DB.AUDIT.SCHEMA_MIGRATIONS order by applied_at, kind"
    )
    return cur.fetchall()


def _columns(cur: Any, table: str) -> list[str]:
    schema, name = table.split(".")
    cur.execute(
        "select lower(column_name) from RETAIL_DB.information_schema.columns "
        f"where table_schema = '{schema}' and table_name = '{name}' order by ordinal_position"
    )
    return [r[0] for r in cur.fetchall()]


def test_every_table_of_the_set_up_is_declared_with_its_columns() -> None:
    tables = migrations.declared_tables()
    assert len(tables) > 60 and ("AUDIT", "SCHEMA_MIGRATIONS") in tables
    revenue = tables[("GOLD", "DAILY_REVENUE")]
    assert revenue.columns[0] == migrations.ColumnDecl("REVENUE_DATE", "DATE", "DATE")
    registry = {c.name: c.type for c in tables[("ML", "MODEL_REGISTRY")].columns}
    assert registry["POPULATION"] == "TEXT" and registry["TRAIN_ROWS"] == "NUMBER(38,0)"


def test_a_fresh_warehouse_records_the_scripts_as_its_baseline(cur, tmp_path: Path) -> None:
    (tmp_path / "V1__drop_an_old_column.sql").write_text(
        "alter table {{ ref('gold.DAILY_REVENUE') }} drop column gone;\n"
    )
    for statement in SKELETON:
        cur.execute(statement)
    done = migrations.migrate(cur, "setup-1", tmp_path)
    assert done.fresh and not done.statements
    assert _ledger(cur) == [("baseline", 1, "V1__drop_an_old_column.sql", None)]  # recorded, not run
    _set_up(cur)
    again = migrations.migrate(cur, "setup-2", tmp_path)
    assert not again.fresh and not again.scripts and not again.statements and not again.refused


def test_an_older_warehouse_gets_the_declared_columns_once(cur, tmp_path: Path) -> None:
    _set_up(cur)
    migrations.migrate(cur, "setup-1", tmp_path)
    # a warehouse from before these columns were declared
    cur.execute("alter table RETAIL_DB.ML.CUSTOMER_CHURN_SCORE drop column top_reasons")
    cur.execute("alter table RETAIL_DB.GOLD.DAILY_REVENUE drop column net_revenue")
    cur.execute("alter table RETAIL_DB.BRONZE.ORDERS drop column channel")
    cur.execute(
        "insert into RETAIL_DB.BRONZE.ORDERS (order_id, _source_file, _source_line, _batch_date) "
        "values ('O1', 'f', 2, '2026-03-02')"
    )

    with_plan = migrations.plan(cur, directory=tmp_path)
    assert with_plan.statements == [
        "alter table RETAIL_DB.BRONZE.ORDERS add column channel VARCHAR",
        "alter table RETAIL_DB.GOLD.DAILY_REVENUE add column net_revenue DECIMAL(14, 2)",
        "alter table RETAIL_DB.ML.CUSTOMER_CHURN_SCORE add column top_reasons VARCHAR",
    ]
    migrations.migrate(cur, "setup-2", tmp_path)
    assert "net_revenue" in _columns(cur, "GOLD.DAILY_REVENUE") and "top_reasons" in _columns(
        cur, "ML.CUSTOMER_CHURN_SCORE"
    )
    cur.execute("select order_id, channel from RETAIL_DB.BRONZE.ORDERS")
    assert cur.fetchall() == [("O1", None)]  # the rows it had are kept
    assert [(kind, statement) for kind, _, _, statement in _ledger(cur)] == [
        ("declared", s) for s in with_plan.statements
    ]
    # a second deploy changes nothing and records nothing
    assert migrations.migrate(cur, "setup-3", tmp_path).statements == []
    assert len(_ledger(cur)) == 3


def test_a_column_no_declaration_has_is_refused_until_a_versioned_script_drops_it(cur, tmp_path: Path) -> None:
    _set_up(cur)
    migrations.migrate(cur, "setup-1", tmp_path)
    cur.execute("alter table RETAIL_DB.GOLD.DAILY_REVENUE add column legacy_margin number(14, 2)")
    cur.execute("alter table RETAIL_DB.GOLD.DAILY_REVENUE drop column net_revenue")  # pending too
    with pytest.raises(
        MigrationRefused, match=r"GOLD\.DAILY_REVENUE\.legacy_margin is in the warehouse but in no declaration"
    ):
        migrations.migrate(cur, "setup-2", tmp_path)
    assert "net_revenue" not in _columns(cur, "GOLD.DAILY_REVENUE") and _ledger(cur) == []  # nothing changed

    drop = tmp_path / "V1__drop_legacy_margin.sql"
    drop.write_text(
        "-- the margin moved to MONTHLY_KPI\n"
        "alter table {{ ref('gold.DAILY_REVENUE') }} drop column if exists legacy_margin;\n"
    )
    assert [s.label for s in migrations.plan(cur, directory=tmp_path).scripts] == [drop.name]
    migrations.migrate(cur, "setup-3", tmp_path)
    assert "legacy_margin" not in _columns(cur, "GOLD.DAILY_REVENUE") and "net_revenue" in _columns(
        cur, "GOLD.DAILY_REVENUE"
    )
    assert [(k, v, s) for k, v, s, _ in _ledger(cur)] == [("versioned", 1, drop.name), ("declared", None, None)]
    assert migrations.migrate(cur, "setup-4", tmp_path).scripts == []  # ran once

    # a script that ran is never edited
    drop.write_text(drop.read_text() + "alter table {{ ref('gold.DAILY_KPI') }} drop column if exists orders;\n")
    with pytest.raises(MigrationRefused, match="V1__drop_legacy_margin.sql changed after it was applied"):
        migrations.migrate(cur, "setup-5", tmp_path)


def test_a_changed_type_is_refused(cur, tmp_path: Path) -> None:
    _set_up(cur)
    cur.execute("alter table RETAIL_DB.GOLD.DAILY_REVENUE drop column net_revenue")
    cur.execute("alter table RETAIL_DB.GOLD.DAILY_REVENUE add column net_revenue float")
    with pytest.raises(MigrationRefused, match=r"net_revenue is FLOAT in the warehouse, declared DECIMAL\(14, 2\)"):
        migrations.migrate(cur, "setup-1", tmp_path)


@pytest.mark.parametrize("name", ["v1__lower.sql", "V1-drop.sql", "V2__Drop_It.sql"])
def test_a_misnamed_script_is_an_error(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("select 1;")
    with pytest.raises(MigrationRefused, match=r"V<number>__<what_it_does>\.sql"):
        migrations.scripts(tmp_path)


def test_the_repository_scripts_are_well_formed() -> None:
    for script in migrations.scripts():
        assert statements(render_sql(f"migrations/{script.path.name}")), script.label
