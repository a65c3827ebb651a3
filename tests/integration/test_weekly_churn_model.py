"""The churn model inside the daily DAG on the real stack: train, promote, score, re-run.

Two years of simulated history are loaded into the stack's warehouse through its stage
(``local/history.py``; a DAG run per date would take hours), then the daily DAG runs the next
business date with training forced. This module runs last (file name): the history rewrites
customers the other modules' checks compare against.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from include.config import LANDING, WAREHOUSE
from include.ml.features import ACTIVE_DAYS
from include.simulator.run import GenerateRequest, generate

pytestmark = pytest.mark.integration
RUN_TIMEOUT = 1200
HISTORY_FROM, DAY = date(2024, 1, 2), date(2026, 1, 31)
SCALE, SEED = 0.02, 17


def stack_alive() -> None:
    from local.stack import assert_running

    assert_running()


def _ml(table: str) -> str:
    return WAREHOUSE.qualified(WAREHOUSE.ml, table)


def _rows(sql: str) -> list[tuple]:
    from local import session

    return session.snowflake_hook().get_records(sql)


@pytest.fixture(scope="module")
def trained_run(stack):
    from local import session
    from local.history import ML_FEEDS, build_model, load_bronze_through_stage

    api, hook = stack, session.snowflake_hook()
    last = DAY - timedelta(days=1)
    load_bronze_through_stage(hook, HISTORY_FROM, last, scale=SCALE, seed=SEED, feeds=ML_FEEDS)
    # the catalogue arrives whole every day: its last days are enough for GOLD to price every line
    load_bronze_through_stage(hook, last - timedelta(days=9), last, scale=SCALE, seed=SEED, feeds=("products",))
    build_model(hook, HISTORY_FROM, last)
    generate(
        GenerateRequest(start=DAY, days=1, scale=SCALE, seed=SEED, out=f"s3://{LANDING.bucket}/{LANDING.inbox}"),
        progress=False,
    )
    backfill = session.backfill(api, DAY, DAY, conf={"train_churn_model": "always"})
    api.wait_for_backfill(backfill, RUN_TIMEOUT, check=stack_alive)
    (run,) = [r for r in api.runs(session.DAILY_DAG) if session.business_date_of(r) == DAY]
    return api, run


def _states(api, run) -> dict[str, str]:
    return {t["task_id"]: t["state"] for t in api.task_instances("retail_daily", run["dag_run_id"])}


def _snapshot() -> dict[str, list[tuple]]:
    return {
        "registry": _rows(
            f"select model_id, status, decision_reason, train_rows, holdout_rows from {_ml('MODEL_REGISTRY')} "
            f"where business_date = '{DAY}' order by model_id"
        ),
        "metrics": _rows(
            f"select model_id, split, metric, value from {_ml('MODEL_METRICS')} "
            f"where business_date = '{DAY}' order by 1, 2, 3"
        ),
        "scores": _rows(
            f"select customer_id, churn_score, decile, model_id from {_ml('CUSTOMER_CHURN_SCORE')} "
            f"where business_date = '{DAY}' order by customer_id"
        ),
    }


def test_the_run_trains_promotes_and_scores(trained_run) -> None:
    api, run = trained_run
    states = _states(api, run)
    assert run["state"] == "success", states
    assert states["train_churn_model"] == states["score_churn_customers"] == states["monitor_churn_model"] == "success"
    snapshot = _snapshot()
    statuses = sorted(status for _, status, *_ in snapshot["registry"])
    assert statuses == ["candidate", "champion"]
    champion = next(model for model, status, *_ in snapshot["registry"] if status == "champion")
    known = _rows(
        f"select count(distinct customer_id) from {WAREHOUSE.qualified(WAREHOUSE.model, 'DIM_CUSTOMER')} "
        # every customer known on the day: signed up by then, with a version valid that day
        f"where signup_date <= '{DAY}' and valid_from < '{DAY + timedelta(days=1)}' "
        f"and valid_to >= '{DAY + timedelta(days=1)}'"
    )[0][0]
    recency = _rows(
        f"select customer_id, recency_days from {_ml('CUSTOMER_FEATURE_SNAPSHOT')} where business_date = '{DAY}'"
    )
    # the scoring population: the customers active on the day (their snapshot says so), not the long gone
    assert {c for c, *_ in snapshot["scores"]} == {c for c, _ in recency}
    assert known > len(snapshot["scores"]) > 1000 and max(r for _, r in recency) <= ACTIVE_DAYS
    assert {m for *_, m in snapshot["scores"]} == {champion}
    assert sorted({d for _, _, d, _ in snapshot["scores"]}) == list(range(1, 11))
    # the champion's stability on the day is measured for every feature and the score
    psi = _rows(f"select count(*) from {_ml('MODEL_MONITORING')} where business_date = '{DAY}' and measure = 'psi'")
    assert psi[0][0] == 19


def test_artifacts_and_report_are_in_the_ml_bucket(trained_run) -> None:
    from local import session

    registry = _rows(
        f"select model_id, artifact_uri, report_uri from {_ml('MODEL_REGISTRY')} where business_date = '{DAY}'"
    )
    keys = session.list_keys("models/churn/", bucket="retail-ml")
    for model_id, artifact_uri, report_uri in registry:
        prefix = f"models/churn/{DAY:%Y%m%d}/{model_id}/"
        assert (
            artifact_uri == f"s3://retail-ml/{prefix}model.joblib"
            and report_uri == f"s3://retail-ml/{prefix}report.html"
        )
        assert {
            f"{prefix}{n}" for n in ("model.joblib", "report.html", "roc.png", "pr.png", "calibration.png", "lift.png")
        } <= set(keys)
    report = session.read_object(report_uri.removeprefix("s3://retail-ml/"), bucket="retail-ml").decode()
    assert "alt='calibration.png'" in report and "Model card" in report and "Permutation importance" in report


def test_rerunning_the_date_replaces_the_ml_rows_identically(trained_run) -> None:
    api, run = trained_run
    before = _snapshot()
    api.request(
        "POST",
        "/dags/retail_daily/clearTaskInstances",
        {
            "dag_run_id": run["dag_run_id"],
            "task_ids": ["train_churn_model", "score_churn_customers"],
            "dry_run": False,
            "only_failed": False,
            "reset_dag_runs": True,
        },
    )
    api.wait_for_runs("retail_daily", lambda r: r["dag_run_id"] == run["dag_run_id"], 1, RUN_TIMEOUT, check=stack_alive)
    tries = {t["task_id"]: t["try_number"] for t in api.task_instances("retail_daily", run["dag_run_id"])}
    assert tries["train_churn_model"] >= 2 and tries["score_churn_customers"] >= 2
    assert _states(api, run)["score_churn_customers"] == "success"
    assert _snapshot() == before
