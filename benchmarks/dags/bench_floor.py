"""
# Benchmark: Airflow's own floor on this stack

`bench_noop` runs one task that does nothing; `bench_chain5` five of them in a row. `make bench`
runs them on its own stack (never in production: this folder is only a DAG bundle of the
benchmark stack) to measure what any task costs before it does any work.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import chain, dag, task


@task
def noop() -> None:
    """Nothing: the cost of a task process, its state changes and its run-log rows."""


# Same settings as the project's DAGs, without their callbacks: the floor is Airflow's, not ours.
SETTINGS = {
    "doc_md": __doc__,
    "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
    "catchup": False,
    "max_consecutive_failed_dag_runs": 3,
    "tags": ["setup"],
    "default_args": {"owner": "data-platform", "retries": 2, "retry_exponential_backoff": True},
}


@dag(dag_id="bench_noop", schedule=None, **SETTINGS)
def bench_noop() -> None:
    noop()


@dag(dag_id="bench_chain5", schedule=None, **SETTINGS)
def bench_chain5() -> None:
    chain(*[noop.override(task_id=f"noop_{i}")() for i in range(1, 6)])


bench_noop()
bench_chain5()
