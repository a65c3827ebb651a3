"""Production scoring trigger: the right Databricks job, the business date, a failed job fails the task.

HTTP is mocked at the boundary (the provider hook's ``requests``), as the provider's own tests do.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pytest

REPO = Path(__file__).resolve().parents[2]
HOST = "https://workspace.example"


@pytest.fixture
def operator(monkeypatch: pytest.MonkeyPatch):
    conn = {"conn_type": "databricks", "host": HOST, "password": "dapi-test-token"}  # pragma: allowlist secret
    monkeypatch.setenv("AIRFLOW_CONN_DATABRICKS_DEFAULT", json.dumps(conn))
    spec = importlib.util.spec_from_file_location("retail_daily_for_test", REPO / "dags" / "retail_daily.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr("include.config.DATABRICKS_SCORING_JOB_ID", "4711")
    op = module.score_churn_on_databricks()
    # a backfill of business date 2026-06-01 (its logical date); the param overrides nothing here
    op.render_template_fields({"logical_date": datetime(2026, 6, 1, tzinfo=UTC), "params": {"business_date": None}})
    return op


def _response(payload: dict) -> mock.MagicMock:
    response = mock.MagicMock(status_code=200)
    response.json.return_value = payload
    return response


def test_the_job_from_configuration_gets_the_business_date(operator) -> None:
    assert operator.task_id == "score_churn_customers"
    assert operator.deferrable is True and operator.trigger_rule == "none_failed"
    assert str(operator.job_id) == "4711"
    assert operator.job_parameters == {"business_date": "2026-06-01"}


def test_a_failed_job_run_fails_the_task(operator) -> None:
    from airflow.sdk.exceptions import AirflowException

    operator.deferrable = False
    operator.polling_period_seconds = 0
    failed = {
        "job_id": 4711,
        "run_id": 99,
        "run_page_url": f"{HOST}/#job/4711/run/99",
        "state": {"life_cycle_state": "TERMINATED", "result_state": "FAILED", "state_message": "scoring failed"},
        "tasks": [],
    }
    with mock.patch("airflow.providers.databricks.hooks.databricks_base.requests") as requests:
        requests.post.return_value = _response({"run_id": 99})
        requests.get.return_value = _response(failed)
        with pytest.raises(AirflowException, match="failed"):
            operator.execute({"ti": mock.MagicMock()})
    url = requests.post.call_args.args[0]
    body = requests.post.call_args.kwargs["json"]
    assert url == f"{HOST}/api/2.2/jobs/run-now"
    assert str(body["job_id"]) == "4711" and body["job_parameters"] == {"business_date": "2026-06-01"}


def test_deferred_the_trigger_watches_the_run_and_a_failure_fails_the_task(operator) -> None:
    from airflow.sdk.exceptions import AirflowException, TaskDeferred

    with mock.patch("airflow.providers.databricks.hooks.databricks_base.requests") as requests:
        requests.post.return_value = _response({"run_id": 99})
        requests.get.return_value = _response(
            {
                "job_id": 4711,
                "run_id": 99,
                "run_page_url": f"{HOST}/#run/99",
                "state": {"life_cycle_state": "PENDING", "state_message": ""},
                "tasks": [],
            }
        )
        with pytest.raises(TaskDeferred) as deferred:
            operator.execute({"ti": mock.MagicMock()})
    assert deferred.value.trigger.run_id == 99
    event = {
        "run_id": 99,
        "run_page_url": f"{HOST}/#run/99",
        "run_state": json.dumps(
            {"life_cycle_state": "TERMINATED", "result_state": "FAILED", "state_message": "scoring failed"}
        ),
        "repair_run": False,
        "errors": [],
    }
    with pytest.raises(AirflowException, match="failed"):
        operator.execute_complete({"ti": mock.MagicMock()}, event)


JOB_ENV = {
    "RETAIL_REPO_URL": "<repo>",
    "RETAIL_REPO_COMMIT": "0123456789abcdef0123456789abcdef01234567",  # pragma: allowlist secret (made up)
    "RETAIL_DATABRICKS_NODE_TYPE": "<node type>",
    "RETAIL_DATABRICKS_INSTANCE_PROFILE_ARN": "<profile>",
    "RETAIL_ML_BUCKET": "<bucket>",
    "RETAIL_DATABASE": "<database>",
}


def test_the_job_definition_runs_the_scoring_entry_point_at_one_commit() -> None:
    from include.ml.databricks.deploy import render

    job = render(JOB_ENV)
    (task,) = job["tasks"]
    assert (REPO / task["spark_python_task"]["python_file"]).exists()
    assert task["spark_python_task"]["parameters"] == ["--business-date", "{{job.parameters.business_date}}"]
    assert [p["name"] for p in job["parameters"]] == ["business_date"]
    assert job["git_source"]["git_commit"] == JOB_ENV["RETAIL_REPO_COMMIT"] and "git_branch" not in job["git_source"]
    with pytest.raises(KeyError, match="RETAIL_REPO_URL"):
        render({})
    with pytest.raises(KeyError, match="full 40-character commit hash"):
        render({**JOB_ENV, "RETAIL_REPO_COMMIT": "main"})


def test_the_job_installs_every_library_the_model_needs_at_the_pinned_versions() -> None:
    from include.ml.databricks.deploy import render

    pins = dict(
        line.split("==", 1)
        for line in (REPO / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    )
    (task,) = render(JOB_ENV)["tasks"]
    installed = dict(lib["pypi"]["package"].split("==", 1) for lib in task["libraries"])
    assert installed == {name: pins[name] for name in installed}  # exactly the pinned versions
    # what the pickled model and the scoring code import
    assert {"scikit-learn", "numpy", "scipy", "pandas", "joblib", "snowflake-connector-python"} <= set(installed)
