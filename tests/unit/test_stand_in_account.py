"""Roles, users and grants on the local stand-in (local/fakesnow_account.py), as a first deploy
leaves them: the admin script, the set-up as the owner role, the roles and grants as code.

What Snowflake refuses, the stand-in refuses: a task role reaching outside its layer, a grant
lost by re-creating an object, a role the user does not hold; and what the admin script prevents
is shown next to what it prevents (a user's default secondary roles of ('ALL')).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from snowflake.connector.errors import DatabaseError, ProgrammingError

from include.config import ROLES, USERS, WAREHOUSE
from include.sql_render import render_sql, statements

BRONZE = WAREHOUSE.qualified(WAREHOUSE.bronze, "ORDERS")
SILVER = WAREHOUSE.qualified(WAREHOUSE.silver, "ORDERS")
GOLD = WAREHOUSE.qualified(WAREHOUSE.gold, "DAILY_REVENUE")
FORMAT = WAREHOUSE.qualified(WAREHOUSE.bronze, WAREHOUSE.file_format)
RUN_LOG = WAREHOUSE.qualified(WAREHOUSE.audit, "TASK_RUN_LOG")
PUT_MODE = dataclasses.replace(WAREHOUSE, stage_mode="put")


@pytest.fixture(scope="module")
def connect() -> Iterator[Any]:
    from local.history import in_process_account

    with in_process_account() as connect:
        yield connect


def _refused(cursor: Any, sql: str) -> str:
    with pytest.raises(ProgrammingError) as raised:
        cursor.execute(sql)
    return str(raised.value)


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (ROLES.loader, [f"select 1 from {BRONZE}", f"delete from {BRONZE} where false"], [f"select 1 from {SILVER}"]),
        (ROLES.transformer, [f"select 1 from {BRONZE}", f"delete from {GOLD} where false"], [f"delete from {BRONZE}"]),
        (ROLES.ml, [f"select count(*) from {GOLD}"], [f"delete from {GOLD} where false", f"select 1 from {SILVER}"]),
        (ROLES.run_logger, [f"select count(*) from {RUN_LOG}"], [f"select 1 from {GOLD}"]),
    ],
)  # fmt: skip
def test_each_task_role_works_with_its_grants_and_nothing_more(connect, role, allowed, refused) -> None:
    cur = connect(USERS.pipeline, role).cursor()
    for sql in allowed:
        cur.execute(sql)
    for sql in refused:
        assert "not authorized" in _refused(cur, sql) or "Insufficient privileges" in _refused(cur, sql)


def test_the_control_tower_reads_gold_views_not_tables(connect) -> None:
    cur = connect(USERS.control_tower).cursor()
    cur.execute(f"select count(*) from {WAREHOUSE.qualified(WAREHOUSE.gold, 'V_FRESHNESS')}")
    assert "not authorized" in _refused(cur, f"select count(*) from {GOLD}")


def test_default_secondary_roles_all_would_let_every_task_session_use_every_role(connect) -> None:
    """Snowflake's default DEFAULT_SECONDARY_ROLES is ('ALL'): a user holding the pipeline role
    would then write GOLD from a session that asked for the loader role. The admin script creates
    the service users with none; a user created without it shows the difference."""
    admin = connect("local_admin").cursor()
    admin.execute(f"create user if not exists CARELESS_SVC default_role = {ROLES.loader}")
    admin.execute(f"grant role {ROLES.pipeline} to user CARELESS_SVC")
    careless = connect("CARELESS_SVC", ROLES.loader).cursor()
    careless.execute(f"delete from {GOLD} where false")  # allowed, through the transformer role
    careless.execute("select current_secondary_roles()")
    assert ROLES.pipeline in careless.fetchone()[0]
    service = connect(USERS.pipeline, ROLES.loader).cursor()
    service.execute("select current_secondary_roles()")
    assert '"roles": ""' in service.fetchone()[0]
    assert "not authorized" in _refused(service, f"delete from {GOLD} where false")


def test_a_role_the_user_does_not_hold_cannot_log_in(connect) -> None:
    with pytest.raises(DatabaseError, match="not granted to this user"):
        connect(USERS.control_tower, ROLES.transformer)


def test_a_redeploy_keeps_the_loaders_file_format_grant_where_create_or_replace_lost_it(connect) -> None:
    """``create or alter file format`` (bootstrap/01) keeps the loader's USAGE; the
    ``create or replace`` it replaced dropped it on every deploy, and no future grant brings it
    back: the next COPY failed until someone applied the grants again."""
    deploy, loader = connect(USERS.deploy).cursor(), connect(USERS.pipeline, ROLES.loader).cursor()
    copy = f"copy into {BRONZE} (order_id) from {PUT_MODE.stage_ref}/none/ file_format = (format_name = '{FORMAT}')"
    loader.execute(copy)  # no file there: 0 files processed, but the grants were checked
    for statement in statements(render_sql("bootstrap/01_file_format_and_stage.sql", wh=PUT_MODE)):
        deploy.execute(statement)
    loader.execute(copy)
    deploy.execute(f"create or replace file format {FORMAT} type = csv skip_header = 1")  # the old deploy
    assert "not authorized" in _refused(loader, copy)
    connect("local_admin").cursor().execute(f"grant usage on file format {FORMAT} to role {ROLES.loader}")
    loader.execute(copy)


def test_replaced_views_keep_their_readers_through_future_grants(connect) -> None:
    deploy = connect(USERS.deploy).cursor()
    for statement in statements(render_sql("bootstrap/06_gold_tables.sql")):
        deploy.execute(statement)
    connect(USERS.control_tower).cursor().execute(
        f"select count(*) from {WAREHOUSE.qualified(WAREHOUSE.gold, 'V_KPI_DAILY_REVENUE')}"
    )


def test_only_the_owner_replaces_a_view(connect) -> None:
    """A view the set-up DAG made belongs to the owner role: the transformer may not replace it."""
    transformer = connect(USERS.pipeline, ROLES.transformer).cursor()
    view = WAREHOUSE.qualified(WAREHOUSE.gold, "V_FRESHNESS")
    assert "Insufficient privileges" in _refused(transformer, f"create or replace view {view} as select 1 as x")


def test_show_grants_reads_back_what_the_grants_as_code_gave(connect) -> None:
    admin = connect("local_admin").cursor()
    admin.execute(f"show grants to role {ROLES.loader}")
    rows = {(r[1], r[2], r[3]) for r in admin.fetchall()}
    assert ("USAGE", "FILE_FORMAT", FORMAT) in rows
    assert ("INSERT", "TABLE", BRONZE) in rows
    assert not any(name.startswith(f"{WAREHOUSE.database}.{WAREHOUSE.silver}.") for _, _, name in rows)


def test_a_hostile_text_in_a_restricted_session_is_data_not_syntax(connect) -> None:
    """A partner's file name with a quote, a comment and a semicolon, written by the loader into
    the file ledger: the stand-in's privilege check reads the statement as Snowflake does (it once
    cut the text at the "--" inside the string, failed, and the connector retried for minutes)."""
    loader = connect(USERS.pipeline, ROLES.loader).cursor()
    name = "orders_20261205'; DROP TABLE BRONZE.ORDERS; -- $(touch pwned) ..%2F.csv"
    ledger = WAREHOUSE.qualified(WAREHOUSE.audit, "FILE_LOADS")
    loader.execute(
        f"merge into {ledger} t using (select '_unrecognised' as feed, '2026-12-04'::date as batch_date, "
        "%(name)s as file_name, 'md5' as file_md5) s on t.feed = s.feed and t.file_md5 = s.file_md5 "
        "when not matched then insert (feed, batch_date, file_name, file_md5, status, deliveries) "
        "values (s.feed, s.batch_date, s.file_name, s.file_md5, 'QUARANTINED', 1)",
        {"name": name},
    )
    loader.execute(f"select file_name from {ledger} where file_md5 = 'md5'")
    assert loader.fetchone()[0] == name
