"""docker-compose.yaml cannot be started here (no Docker engine): check what can be checked."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yaml").read_text())


def _substituted(text: str) -> str:
    return re.sub(r"\$\{(\w+)(:\?[^}]*)?\}", lambda m: f"<{m[1]}>", text)


def test_every_component_of_the_embedded_stack_has_a_service() -> None:
    services = _compose()["services"]
    assert {
        "s3",
        "snowflake",
        "smtp",
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "postgres",
    } <= set(services)
    for name, service in services.items():
        command = service.get("command", "")
        for path in re.findall(r"\b(?:local|include|dags|plugins)/[\w/]+\.py\b", command):
            assert (REPO / path).exists(), f"{name}: {path}"


def test_airflow_services_see_the_repository_and_the_connections() -> None:
    env = _compose()["services"]["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__DAGS_FOLDER"].endswith("/dags")
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"].endswith("/plugins")  # the audit listener
    assert "/local" in env["PYTHONPATH"]  # airflow_local_settings: the stand-in's http protocol
    for name in ("AIRFLOW_CONN_SNOWFLAKE_DEFAULT", "AIRFLOW_CONN_AWS_DEFAULT", "AIRFLOW_CONN_SMTP_DEFAULT"):
        json.loads(_substituted(env[name]))
    snowflake = json.loads(_substituted(env["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"]))
    assert snowflake["extra"]["host"] == "snowflake" and snowflake["extra"]["protocol"] == "http"
    assert snowflake["extra"]["session_parameters"] == {"AUTOCOMMIT": True}  # as on the local stack


def test_no_secret_is_written_into_the_file() -> None:
    text = (REPO / "docker-compose.yaml").read_text()
    for variable in re.findall(r"\$\{(\w+)", text):
        assert f"${{{variable}:?" in text, f"{variable} must come from .env, without a default"
    example = (REPO / ".env.example").read_text()
    for variable in set(re.findall(r"\$\{(\w+)", text)):
        assert re.search(rf"^{variable}=$", example, re.M), f"{variable} is missing (or filled) in .env.example"
