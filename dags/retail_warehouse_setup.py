"""
# Retail warehouse setup

Creates (if missing) the database, the layer schemas, the file format and stage, the BRONZE
and SILVER tables rendered from the feed contract, the MODEL and GOLD tables and views, and the
audit and data-quality tables, from the versioned SQL under
`include/sql/bootstrap/`. Every statement is idempotent: run it on each deploy, or trigger it by
hand after changing a table definition. It never drops or empties anything.

Right after the database and schemas, `migrate` brings an existing warehouse to the declarations
(include/migrations.py): pending versioned scripts of `include/sql/migrations/`, then each declared
column a table lacks; a warehouse column no declaration has, or a changed type, fails the task
before anything changes. Each change is a row of `AUDIT.SCHEMA_MIGRATIONS`;
`python -m include.migrations plan` shows what a run would do.

It works as the **owner role** through `snowflake_deploy` (`RETAIL_SNOWFLAKE_DEPLOY_CONN_ID`): the
role the account administrator prepared once (`python -m include.snowflake_admin prepare`,
docs/production.md "First deploy on Snowflake"), which owns everything it creates, so a later
deploy may replace the views and alter the tables.

Then, where `RETAIL_APPLY_GRANTS=true` (production, and the local stack), the least-privilege
roles and grants of `include/sql/security/roles_and_grants.sql` through the administrator
connection (`RETAIL_SNOWFLAKE_ADMIN_CONN_ID`); elsewhere `grants_enabled` skips that step and says
why. Next: `python -m include.preflight` checks the account before the first daily run.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import chain, dag, task
from airflow.sdk.exceptions import AirflowFailException

from include.airflow_common import DEFAULT_ARGS, SQL_TEMPLATE_ARGS
from include.config import APPLY_GRANTS, ROLES, SETUP_DAG_ID, SNOWFLAKE_ADMIN_CONN_ID, SNOWFLAKE_DEPLOY_CONN_ID
from include.sql_render import BOOTSTRAP_STEPS
from include.warehouse import session_parameters


def _owner() -> dict:
    return {"role": ROLES.owner, "session_parameters": session_parameters()}


@dag(
    dag_id=SETUP_DAG_ID,
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
    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def grants_enabled() -> bool:
        if not APPLY_GRANTS:
            print("RETAIL_APPLY_GRANTS is not true: roles and grants are not applied")
        return APPLY_GRANTS

    @task
    def migrate(**context) -> list[str]:
        """Versioned scripts, then the declared columns an existing warehouse lacks (include/migrations.py)."""
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        from include import migrations

        hook = SnowflakeHook(snowflake_conn_id=SNOWFLAKE_DEPLOY_CONN_ID, **_owner())
        conn = hook.get_conn()
        try:
            done = migrations.migrate(conn.cursor(), context["run_id"])
        except migrations.MigrationRefused as exc:  # a retry cannot change the declarations: fail now
            raise AirflowFailException(str(exc)) from exc
        finally:
            conn.close()
        print("\n".join(done.lines()))
        return [s.label for s in done.scripts] + done.statements

    steps = [
        SQLExecuteQueryOperator(
            task_id=f"apply_{step[3:]}",
            conn_id=SNOWFLAKE_DEPLOY_CONN_ID,
            hook_params=_owner(),
            sql=f"bootstrap/{step}.sql",
            split_statements=True,
        )
        for step in BOOTSTRAP_STEPS
    ]
    chain(
        steps[0],  # the database, the schemas and the migration ledger
        migrate(),
        *steps[1:],
        grants_enabled(),
        SQLExecuteQueryOperator(
            task_id="apply_roles_and_grants",
            conn_id=SNOWFLAKE_ADMIN_CONN_ID,
            hook_params={"session_parameters": session_parameters()},
            sql="security/roles_and_grants.sql",
            split_statements=True,
        ),
    )


retail_warehouse_setup()
