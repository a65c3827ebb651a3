"""OpenLineage from the transform graph: every SQL task of the daily DAG reports, as its inputs
and outputs, the tables its template reads and writes through ``ref()`` (include/transform/graph.py)
- the graph that orders the steps - in the namespace the provider gives the Snowflake account.
(The integration smoke test reads the events a real run wrote through the file transport.)"""

from __future__ import annotations

import json

import pytest

from include.config import WAREHOUSE
from include.transform import graph
from include.transform.operators import DataQualityCheckOperator, LayerSQLOperator, RecordedColumnCheckOperator

ACCOUNT = "myorg-account1"


@pytest.fixture(autouse=True)
def snowflake_connection(monkeypatch) -> None:
    extra = {"account": ACCOUNT, "database": WAREHOUSE.database, "warehouse": "W"}
    monkeypatch.setenv(
        "AIRFLOW_CONN_SNOWFLAKE_DEFAULT",
        json.dumps(
            {"conn_type": "snowflake", "login": "u", "password": "p", "extra": extra}
        ),  # pragma: allowlist secret
    )


def _names(datasets) -> set[str]:
    assert {d.namespace for d in datasets} <= {f"snowflake://{ACCOUNT}"}
    return {d.name for d in datasets}


def _qualified(tables) -> set[str]:
    return {WAREHOUSE.qualified(getattr(WAREHOUSE, t.split(".")[0]), t.split(".")[1]) for t in tables}


def dag_tasks() -> list:
    from pathlib import Path

    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags" / "retail_daily.py"), safe_mode=False)
    assert bag.import_errors == {}
    return bag.dags["retail_daily"].tasks


def test_every_sql_task_of_the_daily_dag_reports_its_declared_tables() -> None:
    sql_tasks = [t for t in dag_tasks() if isinstance(t, LayerSQLOperator | DataQualityCheckOperator)]
    assert len(sql_tasks) >= 30
    for task in sql_tasks:
        step = graph.step(task.sql_template)
        lineage = task.get_openlineage_facets_on_start()
        writes = {"audit.DQ_RESULTS"} if isinstance(task, DataQualityCheckOperator) else step.writes
        assert _names(lineage.outputs) == _qualified(writes), task.task_id
        assert _names(lineage.inputs) == _qualified(step.reads - writes), task.task_id
        assert lineage.outputs or isinstance(task, DataQualityCheckOperator), f"{task.task_id} writes nothing?"


def test_a_merge_reads_bronze_and_writes_silver() -> None:
    lineage = LayerSQLOperator(task_id="orders", sql="silver/orders.sql").get_openlineage_facets_on_complete(None)
    assert _names(lineage.outputs) == {WAREHOUSE.qualified(WAREHOUSE.silver, "ORDERS")}
    assert WAREHOUSE.qualified(WAREHOUSE.bronze, "ORDERS") in _names(lineage.inputs)


def test_column_checks_read_their_staged_table() -> None:
    table = WAREHOUSE.qualified(WAREHOUSE.gold_stage, "DAILY_REVENUE")
    task = RecordedColumnCheckOperator(
        task_id="c", layer="gold", table=table, column_mapping={"orders": {"min": {"geq_to": 0}}}
    )
    lineage = task.get_openlineage_facets_on_start()
    assert _names(lineage.inputs) == {table}
    assert _names(lineage.outputs) == {WAREHOUSE.qualified(WAREHOUSE.audit, "DQ_RESULTS")}
