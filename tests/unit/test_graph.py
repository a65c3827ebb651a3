"""The transform graph (include/transform/graph.py): every table a template names goes through
``ref()``, the committed manifest is what the SQL says now, and the DAG's order follows it."""

from __future__ import annotations

import re

from include.sql_render import SQL_DIR
from include.transform import graph


def test_no_template_names_a_table_by_hand() -> None:
    """``{{ wh.database }}.{{ wh.<schema> }}.`` (and the aliases built from them) was written 276
    times; every table, view, stage and file format is now ``ref('<layer>.<object>')``."""
    by_hand = re.compile(r"wh\.database\s*\}\}\s*\.\s*\{\{|wh\.database\s*~\s*'\.'")
    found = [
        f"{p.relative_to(SQL_DIR)}:{n}"
        for p in SQL_DIR.rglob("*.sql")
        for n, line in enumerate(p.read_text().splitlines(), start=1)
        if by_hand.search(line)
    ]
    assert found == []


def test_the_manifest_is_what_the_sql_says_now() -> None:
    """The DAG reads graph.json at parse time; after changing a step's SQL, write it again:
    python -m include.transform.graph --write"""
    import json

    assert json.loads(graph.MANIFEST.read_text()) == graph.manifest()


def test_a_step_runs_after_the_steps_whose_tables_it_reads() -> None:
    for layer in ("silver", "model"):
        order = graph.ordered(layer)
        assert sorted(order) == sorted(graph.layer_steps(layer))
        for later, earlier in graph.upstream(layer).items():
            assert all(order.index(first) < order.index(later) for first in earlier), (layer, later, earlier)
    up = graph.upstream("model")
    assert {"fct_orders", "fct_payments", "fct_store_sales"} <= up["customer_activity"]  # their pending activity
    assert up["fct_payments"] == {"fct_orders"} and "fct_payments" not in up["fct_orders"]  # declared
    assert graph.step("model/fct_orders.sql").writes >= {"model.FCT_ORDERS", "model.PENDING_CUSTOMER_ACTIVITY"}


def test_the_daily_dags_model_edges_are_the_graphs(tmp_path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(SQL_DIR.parents[1] / "dags" / "retail_daily.py"), safe_mode=False)
    dag = bag.dags["retail_daily"]
    for layer in ("silver", "model"):
        for obj, earlier in graph.upstream(layer).items():
            task = dag.get_task(f"{layer}.{obj}")
            inside = {t.split(".", 1)[1] for t in task.upstream_task_ids if t.startswith(f"{layer}.")}
            assert inside == earlier, (obj, inside, earlier)
