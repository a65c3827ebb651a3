"""Local-stack-only Airflow settings, on PYTHONPATH only when the local stack runs.

The Snowflake provider passes ``host`` and ``port`` from a connection's extras to the connector
but not ``protocol``, so it always speaks https; the fakesnow server speaks plain http. This
makes the provider honour an explicit ``protocol`` extra. Production never loads this file and
its connections have no such extra, so nothing changes there.

The rest is speed on two cores: imports and caches filled once before LocalExecutor forks its
workers, and finished backfills marked complete within seconds (see each function).
"""

from __future__ import annotations

from typing import Any


def honour_snowflake_protocol_extra() -> None:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    if getattr(SnowflakeHook, "_rct_protocol_patch", False):
        return
    original = SnowflakeHook._add_network_config

    def _add_network_config(self: SnowflakeHook, conn_config: dict[str, Any], extra_dict: dict[str, Any]) -> None:
        original(self, conn_config, extra_dict)
        if extra_dict.get("protocol"):
            conn_config["protocol"] = extra_dict["protocol"]

    SnowflakeHook._add_network_config = _add_network_config  # type: ignore[method-assign]
    SnowflakeHook._rct_protocol_patch = True  # type: ignore[attr-defined]


honour_snowflake_protocol_extra()


def preload_task_imports() -> None:
    """Import what every task needs once, in the scheduler, before LocalExecutor forks workers.

    On a 2-core machine re-importing boto3 and the providers in each task process costs seconds
    of CPU per task; forked workers inherit these modules instead. Local stack only.
    """
    import airflow.providers.amazon.aws.hooks.s3  # noqa: F401
    import airflow.providers.amazon.aws.sensors.s3  # noqa: F401
    import airflow.providers.common.sql.operators.sql  # noqa: F401
    import airflow.providers.snowflake.hooks.snowflake  # noqa: F401
    import airflow.providers.standard.operators.python  # noqa: F401
    import airflow.providers.standard.sensors.python  # noqa: F401  - behind @task.sensor
    import snowflake.connector  # noqa: F401  - imports pandas and pyarrow: ~4 s per process


def warm_inspect_caches() -> None:
    """Fill ``inspect``'s module-by-file cache once, before LocalExecutor forks workers.

    Every AWS hook's client names its caller in the user agent by walking the stack with
    ``inspect.stack()``; the first walk in a process resolves the real path of every loaded module
    (thousands after the preload above). Profiled on the local stack: half of an S3 task's client
    creation, repeated in every task process. Forked workers inherit the filled cache instead.
    A cache only: nothing behaves differently. Local stack only.
    """
    import inspect

    inspect.getmodule(inspect.currentframe())


# Seconds between the scheduler's checks for backfills whose runs have all finished (Airflow: a
# fixed 30 s). A new backfill of a DAG is refused until the previous one is marked complete, so
# tests and the demo, which backfill date after date, waited 15 s on average for each mark.
BACKFILL_COMPLETION_CHECK_SECONDS = 2.0


def prompt_backfill_completion() -> None:
    """Check for completed backfills every few seconds instead of every 30. Local stack only.

    The check is one indexed query; nothing else about the scheduler changes.
    """
    from airflow.utils.event_scheduler import EventScheduler

    if getattr(EventScheduler, "_rct_backfill_patch", False):
        return
    original = EventScheduler.call_regular_interval

    def call_regular_interval(self: EventScheduler, delay: float, action: Any, *args: Any, **kwargs: Any) -> None:
        if getattr(action, "__name__", "") == "_mark_backfills_complete":
            delay = min(delay, BACKFILL_COMPLETION_CHECK_SECONDS)
        return original(self, delay, action, *args, **kwargs)

    EventScheduler.call_regular_interval = call_regular_interval  # type: ignore[method-assign]
    EventScheduler._rct_backfill_patch = True  # type: ignore[attr-defined]


preload_task_imports()
warm_inspect_caches()
prompt_backfill_completion()
