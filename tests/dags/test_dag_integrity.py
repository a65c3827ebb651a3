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
    from include.contracts import FEED_NAMES

    dag = dagbag.dags["retail_daily"]
    assert dag.timetable.__class__.__name__ == "CronDataIntervalTimetable"
    for feed in FEED_NAMES:
        sensor = dag.get_task(f"ingest_{feed}.wait_for_file")
        assert sensor.mode == "reschedule" and sensor.timeout > 0
        assert dag.get_task(f"ingest_{feed}.load_feed").upstream_task_ids == {sensor.task_id}
    assert "sweep_inbox" in dag.task_ids
    transform = dag.get_task("transform_window")
    assert transform.upstream_task_ids == {f"ingest_{feed}.load_feed" for feed in FEED_NAMES}
    assert transform.max_active_tis_per_dag == 1  # one date at a time: see docs/architecture.md
    assert dag.params["lookback_days"] == 7
    # the churn model after GOLD: training once at a time, scoring also when training skipped
    train = dag.get_task("train_churn_model")
    assert train.upstream_task_ids == {"transform_window"} and train.max_active_tis_per_dag == 1
    score = dag.get_task("score_churn_customers")
    assert score.upstream_task_ids == {"train_churn_model"} and score.trigger_rule == "none_failed"
    assert dag.params["train_churn_model"] == "auto"
    assert dag.deadline, "retail_daily alerts on-call when a scheduled run is late"


def test_every_daily_task_has_a_runbook_section(dagbag) -> None:
    from include.alerts import runbook_for

    for task_id in dagbag.dags["retail_daily"].task_ids:
        assert "#" in runbook_for(task_id), task_id


def test_dag_files_do_no_work_at_parse_time() -> None:
    """No Variable/Connection look-ups or hooks built at module level."""
    for path in DAGS.glob("*.py"):
        top_level = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith((" ", "\t"))]
        for line in top_level:
            assert "Variable.get" not in line and "get_connection" not in line, f"{path.name}: {line}"
            assert "Hook(" not in line, f"{path.name}: {line}"
