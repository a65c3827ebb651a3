"""The account administrator's one-time preparation of a Snowflake account for the platform.

    python -m include.snowflake_admin prepare                 # run it through snowflake_admin
    python -m include.snowflake_admin prepare --conn-id ID    # another Airflow connection
    python -m include.snowflake_admin prepare --print         # only print it (for a worksheet)

Runs ``include/sql/security/00_account_admin.sql`` (the owner role, the platform's roles, the
service users with no default secondary roles) statement by statement through an Airflow
connection of an account administrator, printing each. Idempotent. The order of a first deploy
is in docs/production.md ("First deploy on Snowflake"); the local stack runs this same command.
"""

from __future__ import annotations

import argparse
import sys

from include.config import SNOWFLAKE_ADMIN_CONN_ID
from include.sql_render import render_sql, statements

SCRIPT = "security/00_account_admin.sql"


def prepare_statements() -> list[str]:
    return [" ".join(s.split()) for s in statements(render_sql(SCRIPT))]


def prepare(conn_id: str) -> None:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.warehouse import session_parameters

    hook = SnowflakeHook(snowflake_conn_id=conn_id, log_sql=False, session_parameters=session_parameters())
    conn = hook.get_conn()
    try:
        cursor = conn.cursor()
        for statement in prepare_statements():
            cursor.execute(statement)
            print(f"ok  {statement}")  # noqa: T201 - the administrator reads what ran
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.snowflake_admin", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("prepare", help="prepare the account: owner role, roles, service users")
    run.add_argument("--conn-id", default=SNOWFLAKE_ADMIN_CONN_ID, help="an account administrator's Airflow connection")
    run.add_argument("--print", action="store_true", help="print the statements instead of running them")
    args = parser.parse_args(argv)
    if args.print:
        print(";\n".join(prepare_statements()) + ";")  # noqa: T201
        return 0
    try:
        prepare(args.conn_id)
    except Exception as exc:  # noqa: BLE001 - one line for the administrator, not a traceback
        print(f"FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    print("the account is prepared: run the retail_warehouse_setup DAG next")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
