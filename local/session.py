"""Helpers shared by the demo and the integration tests: talk to the running local stack."""

from __future__ import annotations

import json
import mailbox
import os
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

from local.airflow_api import AirflowAPI
from local.stack import MAILDIR, REPO, stack_env

DAILY_DAG = "retail_daily"
SETUP_DAG = "retail_warehouse_setup"


def use_stack_env() -> None:
    """Point this process (boto3, hooks, simulator) at the local stack."""
    os.environ.update(stack_env())
    if str(REPO / "local") not in sys.path:
        sys.path.insert(0, str(REPO / "local"))
    import airflow_local_settings  # noqa: F401  - local protocol adaptation for SnowflakeHook


def yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def run_setup(api: AirflowAPI, timeout: float = 300) -> None:
    api.wait_for_dag(SETUP_DAG)
    api.set_paused(SETUP_DAG, False)
    run_id = api.trigger(SETUP_DAG)
    (run,) = api.wait_for_runs(SETUP_DAG, lambda r: r["dag_run_id"] == run_id, 1, timeout)
    if run["state"] != "success":
        failed = [t["task_id"] for t in api.task_instances(SETUP_DAG, run_id) if t["state"] != "success"]
        raise RuntimeError(f"warehouse setup failed in {failed}; see the task logs in the Airflow UI")


def backfill(api: AirflowAPI, start: date, end: date, **options: Any) -> int:
    """Create a backfill of retail_daily over business dates [start, end] and start it.

    On the local stack's SQLite metadata database Airflow does not support creating a backfill
    while the scheduler writes the same DAG's runs (the API answers 503 and the scheduler can
    crash with StaleDataError). So the DAG is paused while the backfill is created, the 503 (or a
    500 "database is locked") is retried, and the DAG is unpaused afterwards. Production
    (PostgreSQL) needs none of this.
    """
    import time

    api.set_paused(DAILY_DAG, True)
    try:
        for attempt in range(6):
            try:
                return api.backfill(DAILY_DAG, start, end, **options)
            except RuntimeError as exc:
                # SQLite under concurrent access: 503, or 500 "Database error" (database is locked)
                busy = "HTTP 503" in str(exc) or ("HTTP 500" in str(exc) and "Database error" in str(exc))
                if "HTTP 409" in str(exc) and attempt > 0:
                    # an earlier attempt did create it before its response failed
                    running = [
                        b
                        for b in api.request("GET", f"/backfills?dag_id={DAILY_DAG}")["backfills"]
                        if not b.get("completed_at")
                    ]
                    if running:
                        return int(running[-1]["id"])
                if not busy or attempt == 5:
                    raise
                time.sleep(3)
        raise AssertionError("unreachable")
    finally:
        api.set_paused(DAILY_DAG, False)


def business_date_of(run: dict[str, Any]) -> date:
    return date.fromisoformat(run["data_interval_start"][:10])


def snowflake_hook() -> Any:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    return SnowflakeHook(snowflake_conn_id="snowflake_default", log_sql=False)


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
