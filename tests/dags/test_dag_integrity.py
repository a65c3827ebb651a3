"""Every DAG imports with no connections configured and follows the repository's conventions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from include.airflow_common import OWNER, TAGS

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("airflow_home")
    saved = dict(os.environ)
    for key in list(os.environ):  # no connections, no stack: parsing must not need them
        if key.startswith(("AIRFLOW_CONN_", "AIRFLOW__")):
            del os.environ[key]
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home}/airflow.db"
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS), safe_mode=False)
    yield bag
    os.environ.clear()
    os.environ.update(saved)


def test_dags_import_without_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == {"retail_daily", "retail_warehouse_setup"}


def test_dag_conventions(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        assert dag.doc_md and len(dag.doc_md) > 200, f"{dag_id} needs a doc_md for the person on call"
        assert dag.tags and set(dag.tags) <= TAGS, f"{dag_id} tags {dag.tags} not in {sorted(TAGS)}"
        assert dag.max_consecutive_failed_dag_runs > 0, dag_id
        assert not dag.catchup, dag_id
        for task in dag.tasks:
            assert task.owner == OWNER, f"{dag_id}.{task.task_id}"
            assert task.retries >= 2, f"{dag_id}.{task.task_id} retries={task.retries}"
            assert task.retry_exponential_backoff, f"{dag_id}.{task.task_id}"
            # one XCom per task: a dict spread over one XCom per key costs an API round trip each
            assert not getattr(task, "multiple_outputs", False), f"{dag_id}.{task.task_id} pushes an XCom per key"
            assert any(type(cb).__name__ == "OnCallFailureNotifier" for cb in task.on_failure_callback or []), (
                f"{dag_id}.{task.task_id} must alert on-call when it fails for good"
            )


def test_no_cycles_and_every_task_reachable(dagbag) -> None:
    for dag in dagbag.dags.values():
        dag.check_cycle() if hasattr(dag, "check_cycle") else None
        roots = {t.task_id for t in dag.roots}
        seen = set(roots)
        frontier = list(roots)
        while frontier:
            for child in dag.get_task(frontier.pop()).downstream_task_ids:
                if child not in seen:
                    seen.add(child)
                    frontier.append(child)
        assert seen == set(dag.task_ids)


def test_daily_dag_shape(dagbag) -> None:
    """The grid is the pipeline: ingest groups, the lock, then one group per layer and its checks."""
    from include.contracts import FEED_NAMES
    from include.transform.graph import upstream as within
    from include.transform.layers import CHECKS, LAYER_OBJECTS

    dag = dagbag.dags["retail_daily"]
    assert dag.timetable.__class__.__name__ == "CronDataIntervalTimetable"

    def upstream(task_id: str) -> set[str]:
        return dag.get_task(task_id).upstream_task_ids

    loads = {f"ingest_{feed}.load_bronze" for feed in FEED_NAMES}
    for feed in FEED_NAMES:
        group = f"ingest_{feed}"
        sensor = dag.get_task(f"{group}.wait_for_file")
        assert sensor.deferrable and sensor.timeout > 0, "file sensing must not hold a worker slot"
        assert sensor.start_from_trigger, "a file already there must not cost a task process"
        assert upstream(f"{group}.validate_file") == {sensor.task_id}
        assert upstream(f"{group}.load_bronze") == {f"{group}.validate_file"}
        assert upstream(f"{group}.archive_file") == {f"{group}.validate_file", f"{group}.load_bronze"}
    assert "sweep_inbox" in dag.task_ids

    lock = dag.get_task("acquire_transform_lock")
    assert lock.is_setup and lock.upstream_task_ids == loads
    silver = {f"silver.{obj}" for obj in LAYER_OBJECTS["silver"]}
    silver_checks = {f"silver_checks.{c}" for c in CHECKS["silver"]}
    model_checks = {f"model_checks.{c}" for c in CHECKS["model"]}
    gold_checks = {f"gold.{c}" for c in CHECKS["gold"]} | {"gold.column_checks"}
    # the change set is taken under the lock, before any SILVER merge
    assert upstream("plan_change_set") == {lock.task_id}
    assert all(upstream(t) == {"plan_change_set"} for t in silver)
    assert all(upstream(t) == silver for t in silver_checks)
    # within MODEL, each object after those whose tables it reads (include/transform/graph.py);
    # the first ones after the SILVER checks, the MODEL checks after the last ones
    edges = within("model")
    for obj, earlier in edges.items():
        expected = {f"model.{e}" for e in earlier} or silver_checks
        assert upstream(f"model.{obj}") == expected, obj
    last = {f"model.{o}" for o in LAYER_OBJECTS["model"] if not any(o in e for e in edges.values())}
    assert last == {"model.customer_activity", "model.dim_date", "model.dim_customer", "model.dim_product",
                    "model.dim_store", "model.fct_inventory_snapshot"}  # fmt: skip
    assert all(upstream(t) == last for t in model_checks)
    assert upstream("gold.build") == model_checks
    assert all(upstream(t) == {"gold.build"} for t in gold_checks)
    assert upstream("gold.publish") == gold_checks
    assert {a.name for a in dag.get_task("gold.publish").outlets} == {
        "retail_gold_daily_revenue",
        "retail_gold_monthly_revenue",
        "retail_gold_customer_rfm",
        "retail_gold_customer_features",
    }
    release = dag.get_task("release_transform_lock")
    assert release.is_teardown and upstream(release.task_id) == {lock.task_id, "gold.publish"}
    # the churn model after GOLD: training once at a time, scoring also when training skipped
    train = dag.get_task("train_churn_model")
    assert upstream(train.task_id) == {"gold.publish"} and train.max_active_tis_per_dag == 1
    score = dag.get_task("score_churn_customers")
    assert upstream(score.task_id) == {"train_churn_model"} and score.trigger_rule == "none_failed"
    monitor = dag.get_task("monitor_churn_model")  # skips itself when nothing was scored
    assert upstream(monitor.task_id) == {"score_churn_customers"} and monitor.trigger_rule == "none_failed"

    groups = {t.task_group.group_id for t in dag.tasks if t.task_group and t.task_group.group_id}
    assert {"silver", "silver_checks", "model", "model_checks", "gold"} <= groups
    assert dag.params["lookback_days"] == 0, "a run transforms what changed, no window by default"
    assert dag.params["train_churn_model"] == "auto"
    assert dag.params["business_date"] is None
    assert dag.deadline, "retail_daily alerts on-call when a scheduled run is late"


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    import re

    headings = [line.lstrip("#").strip() for line in markdown.splitlines() if line.startswith("#")]
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_every_task_alert_links_to_a_runbook_heading_that_exists(dagbag) -> None:
    from include.config import RUNBOOK_BASE
    from include.runbooks import runbook_for

    docs = DAGS.parent
    for dag in dagbag.dags.values():
        for task_id in dag.task_ids:
            link = runbook_for(task_id)
            path, _, anchor = link.partition("#")
            assert path.startswith(RUNBOOK_BASE), link
            file = docs / path
            assert file.exists(), f"{dag.dag_id}.{task_id}: {link} points at a missing file"
            assert anchor in _anchors(file.read_text()), f"{dag.dag_id}.{task_id}: no heading #{anchor} in {path}"


def test_every_named_runbook_section_is_a_heading_that_exists() -> None:
    """The sections alerts and the Control Tower link besides a failed task's (include/runbooks.py)."""
    from include.runbooks import NAMED_SECTIONS

    for section in NAMED_SECTIONS:
        name, _, anchor = section.partition("#")
        assert anchor in _anchors((DAGS.parent / "docs" / "runbooks" / name).read_text()), section


def test_dag_files_do_no_work_at_parse_time() -> None:
    """No Variable/Connection look-ups or hooks built at module level."""
    for path in DAGS.glob("*.py"):
        top_level = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith((" ", "\t"))]
        for line in top_level:
            assert "Variable.get" not in line and "get_connection" not in line, f"{path.name}: {line}"
            assert "Hook(" not in line, f"{path.name}: {line}"


def test_the_setup_dag_applies_roles_and_grants_last_through_the_admin_connection(dagbag) -> None:
    dag = dagbag.dags["retail_warehouse_setup"]
    grants = dag.get_task("apply_roles_and_grants")
    assert grants.conn_id == "snowflake_admin"
    assert "create role if not exists {{ role }}" in grants.sql  # the template file, read by the DAG
    assert grants.upstream_task_ids == {"grants_enabled"}
    assert dag.get_task("grants_enabled").upstream_task_ids == {"apply_change_tracking"}  # the last bootstrap step


HOSTILE_CONF = [
    ("business_date", "2026-06-01'; drop table GOLD.DAILY_REVENUE; --"),
    ("business_date", "../../history/orders"),
    ("business_date", "2026-02-30"),
    ("business_date", "２０２６-06-01"),  # full-width digits
    ("lookback_days", "7; delete from SILVER.ORDERS"),
    ("lookback_days", -1),
    ("lookback_days", 100000),
    ("lookback_days", 7.5),
    ("force_reload", "false; drop stage PARTNER_FILES"),
    ("force_reload", "false"),  # a truthy string would reload everything
    ("train_churn_model", "always; rm -rf /"),
    ("train_churn_model", "ALWAYS"),
]


def _as_the_scheduler_sees(dag):
    """The DAG as the scheduler and API server hold it: they validate a new run's conf."""
    from airflow.serialization.serialized_objects import DagSerialization

    return DagSerialization.from_dict(DagSerialization.to_dict(dag))


@pytest.mark.parametrize(("name", "value"), HOSTILE_CONF)
def test_a_hostile_run_parameter_is_refused_at_trigger_time_and_again_in_the_task(dagbag, name, value) -> None:
    """Airflow refuses the conf when the run is created (the same check as the trigger form and the
    REST API); a task reading the value anyway fails on it before it reaches SQL or a path."""
    from airflow.exceptions import ParamValidationError

    from include import business_date, run_params

    dag = _as_the_scheduler_sees(dagbag.dags["retail_daily"])
    with pytest.raises(ParamValidationError):
        dag.params.deep_merge({name: value}).validate()
    params = {**dag.params.validate(), name: value}
    readers = {
        "business_date": lambda: business_date.parse(params["business_date"]),
        "lookback_days": lambda: run_params.lookback_days(params),
        "force_reload": lambda: run_params.force_reload(params),
        "train_churn_model": lambda: run_params.train_mode(params),
    }
    with pytest.raises(ValueError, match=name):
        readers[name]()


def test_valid_run_parameters_pass_both_checks(dagbag) -> None:
    from include import business_date, run_params

    params = (
        _as_the_scheduler_sees(dagbag.dags["retail_daily"])
        .params.deep_merge(
            {"business_date": "2026-06-01", "lookback_days": 0, "force_reload": True, "train_churn_model": "always"}
        )
        .validate()
    )
    assert business_date.parse(params["business_date"]).isoformat() == "2026-06-01"
    assert run_params.lookback_days(params) == 0 and run_params.force_reload(params) is True
    assert run_params.train_mode(params) == "always"


@pytest.mark.parametrize("scores", [0, 250])
def test_monitoring_counts_the_dates_scores_before_it_loads_the_ml_libraries(dagbag, monkeypatch, scores) -> None:
    """Before the first champion every daily run ends with this task: a date without scores skips
    it after one count query, without the seconds scikit-learn and the model code take to import."""
    import importlib
    import sys

    from airflow.sdk.exceptions import AirflowSkipException

    task = dagbag.dags["retail_daily"].get_task("monitor_churn_model")
    queries: list[tuple[str, dict]] = []

    class Warehouse:  # the ML role's hook: only the count is answered
        def get_first(self, sql: str, parameters: dict) -> tuple[int]:
            queries.append((sql, parameters))
            return (scores,)

    monkeypatch.setitem(task.python_callable.__globals__, "_snowflake", lambda role: Warehouse())
    import include.ml

    monkeypatch.delitem(sys.modules, "include.ml.monitoring", raising=False)  # as in a fresh task process
    monkeypatch.delattr(include.ml, "monitoring", raising=False)
    measured = []
    if scores:  # a scored date goes on to the monitoring itself
        monitoring = importlib.import_module("include.ml.monitoring")
        monkeypatch.setattr(monitoring, "monitor_date", lambda _, __, day: measured.append(day) or {"measures": 0})
        monkeypatch.setitem(task.python_callable.__globals__, "_s3", lambda: None)
    with pytest.raises(AirflowSkipException, match="no churn scores" if not scores else "without its reference"):
        task.python_callable(params={"business_date": "2026-06-01"})
    ((sql, parameters),) = queries
    assert "CUSTOMER_CHURN_SCORE" in sql and str(parameters["business_date"]) == "2026-06-01"
    assert ("include.ml.monitoring" in sys.modules) == bool(scores)
    assert measured == ([] if not scores else [parameters["business_date"]])
