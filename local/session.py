"""Helpers shared by the demo and the integration tests: talk to the running local stack."""

from __future__ import annotations

import json
import logging
import mailbox
import os
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

from include.config import DAILY_DAG_ID, SETUP_DAG_ID
from local.airflow_api import AirflowAPI
from local.stack import MAILDIR, REPO, stack_env

DAILY_DAG, SETUP_DAG = DAILY_DAG_ID, SETUP_DAG_ID


def use_stack_env() -> None:
    """Point this process (boto3, hooks, simulator) at the local stack."""
    os.environ.update(stack_env())
    if str(REPO / "local") not in sys.path:
        sys.path.insert(0, str(REPO / "local"))
    import airflow_local_settings  # noqa: F401  - local protocol adaptation for SnowflakeHook

    # Airflow registers every value of a connection's extra as a secret to mask and warns, once per
    # process, that one is too short to mask: the stand-in's `protocol: http`. Not a secret: quiet.
    logging.getLogger("airflow.sdk._shared.secrets_masker.secrets_masker").setLevel(logging.ERROR)


def yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def prepare_account() -> None:
    """The account administrator's one-time preparation, as docs/production.md runs it:
    ``python -m include.snowflake_admin prepare`` through the admin connection."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "include.snowflake_admin", "prepare"],
        cwd=REPO,
        env={**os.environ, **stack_env()},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode:
        raise RuntimeError(f"preparing the account failed:\n{done.stdout}{done.stderr}")


def run_setup(api: AirflowAPI, timeout: float = 300) -> None:
    """The first deploy's steps on the local stack: the admin script, then the set-up DAG."""
    prepare_account()
    api.wait_for_dag(SETUP_DAG)
    api.set_paused(SETUP_DAG, False)
    run_id = api.trigger(SETUP_DAG)
    (run,) = api.wait_for_runs(SETUP_DAG, lambda r: r["dag_run_id"] == run_id, 1, timeout)
    if run["state"] != "success":
        failed = [t["task_id"] for t in api.task_instances(SETUP_DAG, run_id) if t["state"] != "success"]
        raise RuntimeError(f"warehouse setup failed in {failed}; see the task logs in the Airflow UI")


def backfill(api: AirflowAPI, start: date, end: date, **options: Any) -> int:
    """Create and start a backfill of retail_daily over business dates [start, end], as an operator
    would from the UI, while the DAG is unpaused and the scheduler runs its own runs (unpausing
    also lets the scheduler run the latest day as its scheduled run)."""
    api.set_paused(DAILY_DAG, False)
    return api.backfill(DAILY_DAG, start, end, **options)


def business_date_of(run: dict[str, Any]) -> date:
    """The business date of a run as the REST API lists it (the pipeline's one rule)."""
    from include import business_date

    day = business_date.of_run(run)
    if day is None:
        raise ValueError(f"run {run.get('dag_run_id')} has no business date")
    return day


def snowflake_hook(conn_id: str = "snowflake_admin") -> Any:
    """A hook on the stack's warehouse: by default the account administrator's (what the tests and
    the demo read and reset is not any one task role's); ``snowflake_deploy`` for the owner role."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.warehouse import session_parameters

    return SnowflakeHook(snowflake_conn_id=conn_id, log_sql=False, session_parameters=session_parameters())


def s3_client() -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"])


def list_keys(prefix: str, bucket: str | None = None) -> list[str]:
    bucket = bucket or os.environ.get("RETAIL_LANDING_BUCKET", "retail-landing")
    keys: list[str] = []
    for page in s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return sorted(keys)


def read_object(key: str, bucket: str | None = None) -> bytes:
    bucket = bucket or os.environ.get("RETAIL_LANDING_BUCKET", "retail-landing")
    return s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()


def quarantine_notes() -> list[dict[str, Any]]:
    return [json.loads(read_object(k)) for k in list_keys("quarantine/") if k.endswith(".reason.json")]


def mails() -> list[Any]:
    for sub in ("cur", "new", "tmp"):  # the SMTP server creates them with the first mail
        (MAILDIR / sub).mkdir(parents=True, exist_ok=True)
    return list(mailbox.Maildir(MAILDIR, create=False))


def wait_for_run_log(run_id: str, timeout: float = 120) -> None:
    """Until ``AUDIT.DAG_RUN_LOG`` has the run's final row. The scheduler writes a run's missing
    task rows (every success and skip) in the background when the run ends, just before that row
    (plugins/retail_audit_listener.py): the run-log of the run is complete once it is there."""
    import time

    from include.config import WAREHOUSE

    hook, deadline = snowflake_hook(), time.monotonic() + timeout
    sql = (
        f"select count(*) from {WAREHOUSE.qualified(WAREHOUSE.audit, 'DAG_RUN_LOG')} "
        "where run_id = %(run_id)s and state in ('success', 'failed')"
    )
    while not hook.get_first(sql, parameters={"run_id": run_id})[0]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no final DAG_RUN_LOG row for {run_id} within {timeout}s")
        time.sleep(0.5)
