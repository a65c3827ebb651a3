"""The same DAGs on Airflow's CeleryExecutor: a Redis broker and three workers, each its own process
tree with its own log folder, as on separate machines (RCT_EXECUTOR=celery, local/stack.py).

The module switches the shared stack's scheduler and API server to the CeleryExecutor, starts Redis
and the workers, and puts the LocalExecutor back afterwards. It checks that one run's tasks land
on both general workers and the churn tasks on the ``ml`` queue's worker, that a worker killed
mid-run loses nothing (its task is retried on the other worker and the run ends with each row
once), and that the UI's log endpoint shows a try's log whichever worker ran it (remote logging).
"""

from __future__ import annotations

import contextlib
import csv
import importlib
import io
import os
import signal
import time
from collections.abc import Iterator
from datetime import date

import pytest

from include.config import LANDING, WAREHOUSE
from include.simulator.run import GenerateRequest, generate

pytestmark = pytest.mark.integration
# after the churn module's history (2024-01-02 .. 2026-01-31: days inside it changed what its model
# trained on) and away from the other modules' dates
DAY = date(2026, 3, 23)
KILL_DAY = date(2026, 3, 30)
RUN_TIMEOUT = 900
TASK_RUN_LOG = WAREHOUSE.qualified(WAREHOUSE.audit, "TASK_RUN_LOG")


def _switch(executor: str) -> None:
    """Restart the scheduler and API server under ``executor``; start or stop Redis and workers."""
    from local import stack

    if executor == "local":
        for name in (*stack.CELERY_WORKERS, "redis"):
            if any(s.name == name for s in stack.SERVICES):
                stack.stop_service(name)
        # this process's environment (session.use_stack_env) must not hand Celery's settings, remote
        # logging among them, to the services restarted below
        for name in stack.celery_env(stack.local_keys()):
            os.environ.pop(name, None)
    for name in ("scheduler", "api-server"):
        stack.stop_service(name)
    os.environ["RCT_EXECUTOR"] = executor
    importlib.reload(stack)  # the services and the environment follow RCT_EXECUTOR
    stack.up()


@pytest.fixture(scope="module")
def celery(stack) -> Iterator[object]:
    from local import session

    started_on = os.environ.get("RCT_EXECUTOR", "local")  # RCT_EXECUTOR=celery: the whole tier on Celery
    if started_on != "celery":
        _switch("celery")
        session.use_stack_env()
    try:
        yield stack
    finally:
        if started_on != "celery":
            _switch(started_on)
            session.use_stack_env()


def _run(api, day: date, during=None) -> dict:
    from local import session

    generate(
        GenerateRequest(start=day, days=1, scale=0.2, seed=11, out=f"s3://{LANDING.bucket}/{LANDING.inbox}"),
        progress=False,
    )
    session.backfill(api, day, day, max_active_runs=1)
    if during is not None:
        during()
    (run,) = api.wait_for_runs(session.DAILY_DAG, lambda r: session.business_date_of(r) == day, 1, timeout=RUN_TIMEOUT)
    session.wait_for_run_log(run["dag_run_id"])
    return run


@pytest.fixture(scope="module")
def one_run(celery) -> dict:
    from local import session

    api = celery
    run = _run(api, DAY)
    tis = api.task_instances(session.DAILY_DAG, run["dag_run_id"])
    logged = session.snowflake_hook().get_records(
        f"select task_id, hostname from {TASK_RUN_LOG} where run_id = %(run)s and state in ('success', 'skipped')",
        parameters={"run": run["dag_run_id"]},
    )
    return {"run": run, "tis": tis, "run_log_hosts": dict(logged)}


def test_one_runs_tasks_land_on_both_general_workers(one_run) -> None:
    assert one_run["run"]["state"] == "success"
    hosts = {t["hostname"] for t in one_run["tis"] if t["queue"] == "default" and t["hostname"]}
    assert {"worker-1", "worker-2"} <= hosts, hosts
    # the audit run-log says which worker ran each try
    assert {"worker-1", "worker-2"} <= set(one_run["run_log_hosts"].values())


def test_the_churn_tasks_go_to_the_ml_queue_and_its_worker(one_run) -> None:
    ml = {t["task_id"]: (t["queue"], t["hostname"]) for t in one_run["tis"] if "churn" in t["task_id"]}
    assert set(ml) == {"train_churn_model", "score_churn_customers", "monitor_churn_model"}
    assert set(ml.values()) == {("ml", "worker-ml")}
    others = {t["hostname"] for t in one_run["tis"] if "churn" not in t["task_id"] and t["hostname"]}
    assert "worker-ml" not in others


def test_a_log_is_read_from_whichever_worker_ran_the_try(one_run, celery) -> None:
    """The worker's log folder is its own (another machine's disk): the API server reads the try's
    log from S3, where the worker put it when the try ended."""
    from local import session
    from local.stack import AIRFLOW_HOME

    ti = next(t for t in one_run["tis"] if t["hostname"] == "worker-2" and t["task_id"].startswith("silver."))
    run_id = one_run["run"]["dag_run_id"]
    relative = f"dag_id={session.DAILY_DAG}/run_id={run_id}/task_id={ti['task_id']}/attempt=1.log"
    assert not (AIRFLOW_HOME / "logs" / relative).exists()  # not on the API server's disk
    assert (AIRFLOW_HOME / "workers" / "worker-2" / "logs" / relative).exists()  # on worker-2's
    log = celery.request(
        "GET", f"/dags/{session.DAILY_DAG}/dagRuns/{run_id}/taskInstances/{ti['task_id']}/logs/1?full_content=true"
    )
    text = str(log.get("content"))
    assert "Rows affected" in text or "Snowflake query id" in text, text[:2000]


def _lose_the_machine_of(name: str) -> None:
    """SIGKILL the worker and every process under it, as when its machine or container dies (a task
    process runs in its own process group, so killing the worker's group alone would leave it)."""
    import psutil

    from local import stack

    worker = psutil.Process(int((stack.PIDS / f"{name}.pid").read_text()))
    for process in [worker, *worker.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGKILL)


def test_a_worker_killed_mid_run_loses_nothing(celery) -> None:
    """worker-1's machine dies (every process of it killed) while it runs a task of the day: the
    scheduler fails that try when its heartbeat stops, the retry runs on worker-2, and the day
    ends with every order once."""
    from local import session, stack

    api = celery
    killed: dict[str, object] = {}

    def kill_worker_1_while_it_works() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            runs = [r for r in api.runs(session.DAILY_DAG) if session.business_date_of(r) == KILL_DAY]
            if runs:
                running = [
                    t
                    for t in api.task_instances(session.DAILY_DAG, runs[0]["dag_run_id"])
                    if t["state"] == "running"
                    and t["hostname"] == "worker-1"
                    # sweep_inbox ends in well under a second: a clean-clone run killed the machine as
                    # it finished, so its only try succeeded and nothing was left to retry
                    and t["task_id"] != "sweep_inbox"
                ]
                if running:
                    _lose_the_machine_of("worker-1")
                    killed["task_id"] = running[0]["task_id"]
                    return
            time.sleep(0.3)
        raise AssertionError("worker-1 ran no task of the day within 5 minutes")

    try:
        run = _run(api, KILL_DAY, during=kill_worker_1_while_it_works)
    finally:
        stack.start_service("worker-1")  # for whatever runs next
    assert run["state"] == "success"
    ti = next(t for t in api.task_instances(session.DAILY_DAG, run["dag_run_id"]) if t["task_id"] == killed["task_id"])
    assert ti["state"] == "success" and ti["try_number"] >= 2, ti
    assert ti["hostname"] != "worker-1" or ti["try_number"] > 2, ti

    hook = session.snowflake_hook()
    raw = stack.S3_ROOT / LANDING.bucket / "history" / "orders" / f"year={KILL_DAY:%Y}" / f"month={KILL_DAY:%m}"
    (path,) = raw.glob(f"day={KILL_DAY:%d}/orders_{KILL_DAY:%Y%m%d}.csv")
    rows = [row["order_id"] for row in csv.DictReader(io.StringIO(path.read_text()))]  # duplicates included
    bronze = hook.get_first(
        f"select count(*), count(distinct order_id) from {WAREHOUSE.qualified(WAREHOUSE.bronze, 'ORDERS')} "
        "where _batch_date = %(day)s",
        parameters={"day": KILL_DAY},
    )
    assert tuple(bronze) == (len(rows), len(set(rows)))  # every line of the file once
    facts = hook.get_first(
        f"select count(*), count(distinct order_id) from {WAREHOUSE.qualified(WAREHOUSE.model, 'FCT_ORDERS')}"
    )
    assert facts[0] == facts[1], "an order doubled in FCT_ORDERS"
    (missing,) = hook.get_first(
        f"select count(*) from {WAREHOUSE.qualified(WAREHOUSE.bronze, 'ORDERS')} as b "
        f"left join {WAREHOUSE.qualified(WAREHOUSE.model, 'FCT_ORDERS')} as f on f.order_id = b.order_id "
        "where b._batch_date = %(day)s and f.order_id is null",
        parameters={"day": KILL_DAY},
    )
    assert missing == 0
