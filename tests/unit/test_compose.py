"""docker-compose.yaml, the Dockerfile and the Helm values cannot be started here (no Docker engine,
no Kubernetes, no helm binary in the reachable registries): check what can be checked."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = (
    "airflow-init", "airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
    "airflow-worker", "airflow-worker-ml", "flower", "airflow-cli",
)  # fmt: skip


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yaml").read_text())


def _substituted(text: str) -> str:
    return re.sub(r"\$\{(\w+)(:\?[^}]*)?\}", lambda m: f"<{m[1]}>", text)


def test_every_component_has_a_service_with_a_health_check() -> None:
    services = _compose()["services"]
    assert {"s3", "snowflake", "smtp", "postgres", "redis", *AIRFLOW_SERVICES} <= set(services)
    for name, service in services.items():
        command = service.get("command", "")
        for path in re.findall(r"\b(?:local|include|dags|plugins)/[\w/]+\.py\b", command):
            assert (REPO / path).exists(), f"{name}: {path}"
        if name not in ("airflow-init", "airflow-cli"):
            assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert services["flower"]["profiles"] == ["flower"]  # on request only


def test_the_executor_is_celery_on_redis_with_scalable_workers_and_an_ml_queue() -> None:
    services = _compose()["services"]
    env = services["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    assert {"redis", "postgres", "airflow-init"} <= set(services["airflow-worker"]["depends_on"])
    # `--scale airflow-worker=N` needs a worker without a fixed name or published port
    worker = services["airflow-worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert "--queues default" in worker["command"]
    assert "--queues ml" in services["airflow-worker-ml"]["command"]
    assert env["RETAIL_ML_QUEUE"] == "ml"  # the churn tasks go where the ml worker listens
    # workers share no disk with the API server: logs reach the UI through the bucket
    assert env["AIRFLOW__LOGGING__REMOTE_LOGGING"] == "True"


def test_every_airflow_service_runs_the_same_image_and_settings() -> None:
    services = _compose()["services"]
    images = {services[name]["image"] for name in AIRFLOW_SERVICES}
    assert images == {"${RCT_IMAGE:-retail-control-tower:local}"}
    assert all(services[name]["build"]["dockerfile"] == "Dockerfile" for name in AIRFLOW_SERVICES)
    reference = services["airflow-scheduler"]["environment"]
    for name in AIRFLOW_SERVICES:
        env = dict(services[name]["environment"])
        env.pop("DUMB_INIT_SETSID", None)  # the workers' warm shutdown
        assert env == reference, name


def test_the_image_bakes_the_pinned_requirements_and_the_code() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM apache/airflow:3\.3\.2-python3\.11$", dockerfile, re.M)
    pinned = re.search(r"^apache-airflow==([\d.]+)$", (REPO / "requirements.txt").read_text(), re.M)
    assert pinned and pinned[1] == "3.3.2", "the image's Airflow is the one requirements.txt pins"
    assert "-r /opt/rct/requirements.txt" in dockerfile
    for folder in ("dags", "plugins", "include", "docs"):
        assert re.search(rf"^COPY .*\b{folder} /opt/rct/{folder}$", dockerfile, re.M), folder
    assert ".venv" in (REPO / ".dockerignore").read_text().split()


def test_airflow_services_see_the_repository_and_the_connections() -> None:
    env = _compose()["services"]["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/rct/dags"
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == "/opt/rct/plugins"  # the audit listener, the Control Tower
    assert "/local" in env["PYTHONPATH"]  # airflow_local_settings: the stand-in's http protocol
    names = ("AIRFLOW_CONN_SNOWFLAKE_DEFAULT", "AIRFLOW_CONN_SNOWFLAKE_CONTROL_TOWER", "AIRFLOW_CONN_AWS_DEFAULT")
    for name in (*names, "AIRFLOW_CONN_SMTP_DEFAULT"):
        json.loads(_substituted(env[name]))
    snowflake = json.loads(_substituted(env["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"]))
    assert snowflake["extra"]["host"] == "snowflake" and snowflake["extra"]["protocol"] == "http"
    assert snowflake["extra"]["session_parameters"] == {"AUTOCOMMIT": True}  # as on the local stack


def test_no_secret_is_written_into_the_file() -> None:
    text = (REPO / "docker-compose.yaml").read_text()
    for variable in re.findall(r"(?<!\$)\$\{(\w+)", text):  # $${X}: the container's own variable
        if variable == "RCT_IMAGE":
            continue  # an image name, with a default
        assert f"${{{variable}:?" in text, f"{variable} must come from .env, without a default"
    example = (REPO / ".env.example").read_text()
    for variable in set(re.findall(r"\$\{(\w+):\?", text)):
        assert re.search(rf"^{variable}=$", example, re.M), f"{variable} is missing (or filled) in .env.example"


def _helm() -> dict:
    return yaml.safe_load((REPO / "deploy" / "helm" / "values.yaml").read_text())


def test_the_helm_values_run_the_same_image_and_settings_as_compose() -> None:
    """Not rendered (no helm binary reachable here): the values the chart reads, against compose."""
    values, compose = _helm(), _compose()["services"]["airflow-scheduler"]["environment"]
    assert values["executor"] == "CeleryExecutor" and values["workers"]["keda"]["enabled"] is True
    assert values["airflowVersion"] == "3.3.2"
    assert values["images"]["airflow"]["repository"] == compose_image_name()
    config = values["config"]
    assert config["core"]["dags_folder"] == compose["AIRFLOW__CORE__DAGS_FOLDER"]
    assert config["core"]["plugins_folder"] == compose["AIRFLOW__CORE__PLUGINS_FOLDER"]
    assert config["logging"]["remote_logging"] == compose["AIRFLOW__LOGGING__REMOTE_LOGGING"]
    assert config["operators"]["default_queue"] == compose["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]
    env = {e["name"]: e["value"] for e in values["env"]}
    assert env["RETAIL_ML_QUEUE"] == "default"  # one worker pool: the churn tasks must not wait for an ml worker
    assert env["RETAIL_STAGE_MODE"] == "external"  # production: COPY from the external stage
    assert "local" not in env["PYTHONPATH"]  # no stand-in settings in production
    # connections come from a Secret; the file has no credential
    assert "secretRef" in values["extraEnvFrom"]
    text = (REPO / "deploy" / "helm" / "values.yaml").read_text().lower()
    assert "password" not in text and "AIRFLOW_CONN_".lower() not in text.replace("airflow_conn_*", "")


def compose_image_name() -> str:
    image = _compose()["services"]["airflow-scheduler"]["image"]
    return re.search(r":-([\w.-]+):", image)[1]
