"""MODEL and GOLD declared once (include/declarations.py): the warehouse the set-up builds has
exactly the declared tables, views and columns; the generated document is current; and every
declared check, run against a staged build of simulated days, passes on legitimate data and fails
on the row it exists for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from include.config import WAREHOUSE
from include.declarations import METRICS_DOC, declared, find, render_metrics

DAYS = [date(2026, 4, 6), date(2026, 4, 7)]


def test_the_metrics_document_is_rendered_from_the_declarations() -> None:
    assert METRICS_DOC.read_text() == render_metrics(), "run `make docs` and commit docs/metrics.md"


def _columns(hook: Any, schema: str, name: str) -> list[str]:
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        cur.execute(
            f"select column_name from {WAREHOUSE.database}.information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{name}' order by ordinal_position"
        )
        return [r[0].lower() for r in cur.fetchall()]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def built() -> Iterator[Any]:
    """Two simulated days through SILVER and MODEL, GOLD built in GOLD_STAGE for the second."""
    from include.transform import layers
    from include.transform.window import Window
    from local.history import build_model, in_process_warehouse, load_bronze

    with in_process_warehouse() as hook:
        load_bronze(hook, DAYS[0], DAYS[1], scale=0.05, seed=5)
        build_model(hook, DAYS[0], DAYS[0], gold=True)
        window = Window(DAYS[1], DAYS[1])
        layers.run_file(hook, "audit/plan_change_set.sql", window, run_id="declared")
        for layer in ("silver", "model"):
            for obj in layers.LAYER_OBJECTS[layer]:
                layers.run_file(hook, f"{layer}/{obj}.sql", window, run_id="declared")
        layers.run_file(hook, "gold/build.sql", window, run_id="declared")
        yield hook


def test_the_warehouse_has_exactly_the_declared_columns(built) -> None:
    for layer, schemas in (("model", (WAREHOUSE.model,)), ("gold", (WAREHOUSE.gold, WAREHOUSE.gold_stage))):
        for obj in declared(layer, kind=None):
            for schema in schemas:
                if (obj.stage_only and schema == WAREHOUSE.gold) or (
                    schema == WAREHOUSE.gold_stage and not (obj.publish or obj.stage_only)
                ):
                    continue
                assert _columns(built, schema, obj.name) == obj.column_names, f"{schema}.{obj.name}"
    # the projection views follow their table's declaration
    for obj in declared("gold", kind=None):
        if obj.view:
            extra = [c["name"] for c in obj.view.get("extra_columns", [])]
            assert _columns(built, WAREHOUSE.gold, obj.view["name"]) == obj.column_names + extra, obj.view["name"]


def _check_failures(hook: Any, table: str, mapping: dict[str, dict[str, Any]]) -> list[str]:
    """The declared column checks, evaluated as SQLColumnCheckOperator evaluates them."""
    import operator

    functions = {
        "null_check": "sum(iff({c} is null, 1, 0))",
        "min": "min({c})",
        "max": "max({c})",
        "distinct_check": "count(distinct {c})",
        "unique_check": "count({c}) - count(distinct {c})",
    }

    compare = {"equal_to": operator.eq, "geq_to": operator.ge, "greater_than": operator.gt, "leq_to": operator.le,
               "less_than": operator.lt}  # fmt: skip
    failures = []
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        for column, checks in mapping.items():
            for check, bounds in checks.items():
                cur.execute(f"select {functions[check].format(c=column)} from {table}")
                (value,) = cur.fetchone()
                for bound, limit in bounds.items():
                    if value is not None and not compare[bound](float(value), float(limit)):
                        failures.append(f"{check}({column}) = {value}, expected {bound} {limit}")
    finally:
        conn.close()
    return failures


def test_every_declared_gold_check_passes_on_a_legitimate_build(built) -> None:
    checked = [obj for obj in declared("gold") if obj.checks]
    assert checked, "GOLD declares column checks"
    for obj in checked:
        staged = WAREHOUSE.qualified(WAREHOUSE.gold_stage, obj.name)
        assert _check_failures(built, staged, obj.column_checks()) == [], obj.name


def test_a_declared_threshold_fails_on_the_row_it_exists_for(built) -> None:
    """A staged day of negative net revenue (say, refunds larger than sales) breaks the declared
    minimum: the check that would stop its publication fails here, in the quick tier."""
    obj = find("gold.DAILY_REVENUE")
    staged = WAREHOUSE.qualified(WAREHOUSE.gold_stage, obj.name)
    conn = built.get_conn()
    try:
        cur = conn.cursor()
        cur.execute(
            f"insert into {staged} ({', '.join(obj.column_names)}) "
            "values ('2026-04-07', 'web', 'refunds', 'CA', 1, 1, 0, 5, -5)"
        )
        failures = _check_failures(built, staged, obj.column_checks())
        assert any("min(net_revenue)" in f for f in failures), failures
        assert obj.check_severity("net_revenue") == "critical"
    finally:
        cur.execute(f"delete from {staged} where category = 'refunds'")
        conn.close()


def test_the_daily_dag_runs_a_column_check_task_per_declared_table() -> None:
    from pathlib import Path

    from airflow.dag_processing.dagbag import DagBag

    dag_file = Path(__file__).resolve().parents[2] / "dags" / "retail_daily.py"
    dag = DagBag(dag_folder=str(dag_file), safe_mode=False).dags["retail_daily"]
    checked = [obj for obj in declared("gold") if obj.checks]
    tasks = [t for t in dag.tasks if t.task_id.startswith("gold.column_checks")]
    assert len(tasks) == len(checked)
    assert {t.table for t in tasks} == {WAREHOUSE.qualified(WAREHOUSE.gold_stage, o.name) for o in checked}
    assert tasks[0].column_mapping == checked[0].column_checks()


def test_the_large_facts_carry_their_declared_clustering_key_on_a_new_and_an_existing_table() -> None:
    """Snowflake prunes a fact's micro-partitions by its clustering key; the set-up declares it on
    a new table and sets it on one that exists (``create table if not exists`` leaves that one)."""
    from include.sql_render import render_sql, statements

    clustered = {o.name: o.cluster_by for o in declared("model") if o.cluster_by}
    assert set(clustered) >= {"FCT_ORDERS", "FCT_ORDER_ITEMS", "FCT_PAYMENTS", "FCT_STORE_SALES"}
    sent = [" ".join(s.split()).lower().rstrip(";") for s in statements(render_sql("bootstrap/05_model_tables.sql"))]
    for name, keys in clustered.items():
        assert all(k in find(f"model.{name}").column_names for k in keys), name
        table = f"{WAREHOUSE.database}.{WAREHOUSE.model}.{name}".lower()
        key = f"cluster by ({', '.join(keys)})"
        assert any(s.startswith(f"create table if not exists {table} (") and s.endswith(key) for s in sent), name
        assert f"alter table {table} {key}" in sent, name
