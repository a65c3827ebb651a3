"""One scale-1 business day through the real scheduler, its GOLD checked against pandas.

The end-to-end part of `make test` (the quick tier, marker ``smoke``): the daily DAG on the
private stack - sensors, validation, BRONZE load, every SILVER, MODEL and GOLD step and check,
publication - for the day and the late rows its files carry for the day before, and every GOLD
table recomputed from the raw files by the independent pandas code of
``tests/integration/gold_reference.py``. ``make test-all`` runs it too, with everything else.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from include.config import LANDING, WAREHOUSE
from include.contracts import FEED_NAMES, load_contract
from include.simulator.run import GenerateRequest, generate

pytestmark = [pytest.mark.integration, pytest.mark.second_stack, pytest.mark.smoke]
DAY = date(2026, 11, 2)  # far from the other modules' dates
RUN_TIMEOUT = 600


@pytest.fixture(scope="module")
def one_day(fresh_warehouse, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from local import session
    from local.stack import assert_running

    api = fresh_warehouse
    files = tmp_path_factory.mktemp("smoke_feeds")
    for out in (f"s3://{LANDING.bucket}/{LANDING.inbox}", str(files)):
        generate(GenerateRequest(start=DAY, days=1, scale=1.0, seed=31, out=out), progress=False)
    api.wait_for_dag(session.DAILY_DAG)
    api.wait_for_backfill(session.backfill(api, DAY, DAY), RUN_TIMEOUT, check=assert_running)
    (run,) = [r for r in api.runs(session.DAILY_DAG) if session.business_date_of(r) == DAY]
    hook = session.snowflake_hook()
    tables = ("DAILY_REVENUE", "MONTHLY_REVENUE", "DAILY_KPI", "MONTHLY_KPI", "DATE_COMPLETENESS", "CUSTOMER_RFM",
              "CUSTOMER_FEATURES")  # fmt: skip
    gold = {t: set(hook.get_records(f"select * from {WAREHOUSE.qualified(WAREHOUSE.gold, t)}")) for t in tables}
    return {"api": api, "run": run, "files": Path(files), "gold": gold}


def test_the_day_runs_every_step_and_succeeds(one_day) -> None:
    run_id = one_day["run"]["dag_run_id"]
    states = {t["task_id"]: t["state"] for t in one_day["api"].task_instances("retail_daily", run_id)}
    assert one_day["run"]["state"] == "success", {t: s for t, s in states.items() if s != "success"}
    assert states["gold.publish"] == "success" and states["model.customer_activity"] == "success"


@pytest.mark.parametrize(
    "table",
    ["DAILY_REVENUE", "MONTHLY_REVENUE", "DAILY_KPI", "MONTHLY_KPI", "DATE_COMPLETENESS", "CUSTOMER_RFM",
     "CUSTOMER_FEATURES"],
)  # fmt: skip
def test_gold_equals_its_recomputation_from_the_raw_files(one_day, table) -> None:
    from tests.integration import gold_reference as ref

    facts = ref.build_facts(one_day["files"], [DAY])
    first = DAY - timedelta(days=1)  # the day's files carry late rows for the day before
    months = {first.replace(day=1), DAY.replace(day=1)}
    want = {
        "DAILY_REVENUE": lambda: ref.daily_revenue(facts, first, DAY),
        "MONTHLY_REVENUE": lambda: ref.monthly_revenue(facts, months),
        "DAILY_KPI": lambda: ref.daily_kpi(facts, first, DAY),
        "MONTHLY_KPI": lambda: ref.monthly_kpi(facts, months),
        "DATE_COMPLETENESS": lambda: ref.date_completeness({DAY: set(FEED_NAMES)}, first, DAY),
        "CUSTOMER_RFM": lambda: ref.customer_rfm(facts),
        "CUSTOMER_FEATURES": lambda: ref.customer_features(facts),
    }[table]()
    got = one_day["gold"][table]
    assert got, f"GOLD.{table} is empty: the comparison would prove nothing"
    assert got - want == set() and want - got == set(), (
        f"GOLD.{table}: extra {sorted(got - want)[:3]}, missing {sorted(want - got)[:3]}"
    )


def test_every_sql_task_reported_the_declared_lineage(one_day) -> None:
    """The OpenLineage events the run wrote (the stack's file transport): each SQL task's inputs
    and outputs are the tables its template reads and writes in the transform graph, and each
    BRONZE load reports its staged file in and its table out."""
    from include.transform import graph
    from include.transform.operators import DataQualityCheckOperator, LayerSQLOperator
    from local.stack import LINEAGE, LINEAGE_ON
    from tests.unit.test_lineage import dag_tasks

    if not LINEAGE_ON:
        pytest.skip("RCT_LINEAGE=off: this stack writes no OpenLineage events")
    run_id = one_day["run"]["dag_run_id"]
    reported: dict[str, tuple[set[str], set[str]]] = {}
    for line in LINEAGE.read_text().splitlines():
        event = json.loads(line)
        if event.get("eventType") == "COMPLETE" and run_id in json.dumps(event["run"].get("facets", {})):
            names = ({d["name"] for d in event.get("inputs", [])}, {d["name"] for d in event.get("outputs", [])})
            reported[event["job"]["name"].removeprefix("retail_daily.")] = names

    def qualified(tables) -> set[str]:
        return {WAREHOUSE.qualified(getattr(WAREHOUSE, t.split(".")[0]), t.split(".")[1]) for t in tables}

    sql_tasks = [t for t in dag_tasks() if isinstance(t, LayerSQLOperator | DataQualityCheckOperator)]
    for task in sql_tasks:
        step = graph.step(task.sql_template)
        writes = {"audit.DQ_RESULTS"} if isinstance(task, DataQualityCheckOperator) else step.writes
        assert reported.get(task.task_id) == (qualified(step.reads - writes), qualified(writes)), task.task_id
    for feed in FEED_NAMES:
        inputs, outputs = reported[f"ingest_{feed}.load_bronze"]
        assert outputs == qualified({f"bronze.{load_contract().feed(feed).table}"}), feed
        assert any(name.startswith(f"{LANDING.staging}/{feed}/") for name in inputs), (feed, inputs)
