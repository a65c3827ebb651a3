"""The optional Power BI refresh after the GOLD publication: off by default, the right dataset,
and a failed refresh fails the task. HTTP is mocked at the provider hook's request method
(`PowerBIHook.run`, the Graph/Power BI REST call), as the provider's own tests do."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _dag_module(monkeypatch: pytest.MonkeyPatch, **env: str):
    for name, value in env.items():
        monkeypatch.setattr(f"include.config.{name}", value)
    spec = importlib.util.spec_from_file_location("retail_daily_bi_test", REPO / "dags" / "retail_daily.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _dag_module(monkeypatch)
    assert module.BI_REFRESH == ""
    dag = module.retail_daily()
    assert "refresh_bi_dataset" not in dag.task_ids


def _fake_powerbi(status: str, calls: list[tuple[str, str]]):
    async def run(self, url: str = "", method: str = "GET", path_parameters: dict | None = None, **kwargs: Any):
        calls.append((method, url.format(**(path_parameters or {}))))
        if method == "POST":
            return {"requestid": "refresh-7"}
        return {"value": [{"requestId": "refresh-7", "status": status, "serviceExceptionJson": "{}"}]}

    return run


def _drive(operator, monkeypatch: pytest.MonkeyPatch, status: str) -> list[tuple[str, str]]:
    """Run the operator's defer -> trigger -> resume cycle in-process, as the triggerer would."""
    from airflow.providers.microsoft.azure.hooks.powerbi import PowerBIHook
    from airflow.sdk.exceptions import TaskDeferred

    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(PowerBIHook, "run", _fake_powerbi(status, calls))
    pushed: dict[str, Any] = {}
    context = {"ti": type("TI", (), {"xcom_push": lambda self, key, value: pushed.update({key: value})})()}

    async def first_event(trigger) -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    resume = None  # (method, event) of the last deferral
    while True:
        try:
            if resume is None:
                operator.execute(context)
            else:
                getattr(operator, resume[0])(context, resume[1])
            return calls
        except TaskDeferred as deferred:
            deferred.trigger.check_interval = 0
            resume = (deferred.method_name, asyncio.run(first_event(deferred.trigger)))


def test_switched_on_it_refreshes_the_configured_dataset_after_the_publication(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "secret-value"  # noqa: S105  # pragma: allowlist secret
    conn = {"conn_type": "powerbi", "login": "client-id", "password": secret, "extra": {"tenant_id": "t"}}
    monkeypatch.setenv("AIRFLOW_CONN_POWERBI_DEFAULT", json.dumps(conn))
    module = _dag_module(monkeypatch, BI_REFRESH="powerbi", POWERBI_GROUP_ID="ws-1", POWERBI_DATASET_ID="ds-9")
    dag = module.retail_daily()
    task = dag.get_task("refresh_bi_dataset")
    assert task.upstream_task_ids == {"gold.publish"}
    assert (task.group_id, task.dataset_id, task.conn_id) == ("ws-1", "ds-9", "powerbi_default")
    calls = _drive(task, monkeypatch, "Completed")
    assert calls[0] == ("POST", "myorg/groups/ws-1/datasets/ds-9/refreshes")
    assert ("GET", "myorg/groups/ws-1/datasets/ds-9/refreshes") in calls


def test_a_failed_refresh_fails_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.exceptions import AirflowException

    module = _dag_module(monkeypatch, BI_REFRESH="powerbi", POWERBI_GROUP_ID="ws-1", POWERBI_DATASET_ID="ds-9")
    task = module.refresh_bi_dataset()
    with pytest.raises(AirflowException):
        _drive(task, monkeypatch, "Failed")


def test_a_half_configured_refresh_is_an_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="RETAIL_POWERBI_GROUP_ID"):
        _dag_module(monkeypatch, BI_REFRESH="powerbi", POWERBI_GROUP_ID="", POWERBI_DATASET_ID="").retail_daily()
