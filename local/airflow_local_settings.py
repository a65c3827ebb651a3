"""Local-stack-only Airflow settings, on PYTHONPATH only when the local stack runs.

The Snowflake provider passes ``host`` and ``port`` from a connection's extras to the connector
but not ``protocol``, so it always speaks https; the fakesnow server speaks plain http. This
makes the provider honour an explicit ``protocol`` extra. Production never loads this file and
its connections have no such extra, so nothing changes there.
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


preload_task_imports()
