"""
# Retail warehouse setup

Creates (if missing) the database, the layer schemas, the file format and stage, the BRONZE
and SILVER tables rendered from the feed contract, the MODEL and GOLD tables and views, and the
audit and data-quality tables, from the versioned SQL under
`include/sql/bootstrap/`. Every statement is idempotent: run it on each deploy, or trigger it by
hand after changing a table definition. It never drops or empties anything.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import chain, dag

from include.airflow_common import DEFAULT_ARGS, SQL_TEMPLATE_ARGS
from include.config import SNOWFLAKE_CONN_ID
from include.sql_render import BOOTSTRAP_STEPS


@dag(
    dag_id="retail_warehouse_setup",
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    max_consecutive_failed_dag_runs=3,
    default_args=DEFAULT_ARGS,
    tags=["retail", "setup"],
    **SQL_TEMPLATE_ARGS,
)
def retail_warehouse_setup() -> None:
    chain(
        *[
            SQLExecuteQueryOperator(
                task_id=f"apply_{step[3:]}",
                conn_id=SNOWFLAKE_CONN_ID,
                sql=f"bootstrap/{step}.sql",
                split_statements=True,
            )
            for step in BOOTSTRAP_STEPS
        ]
    )


retail_warehouse_setup()
