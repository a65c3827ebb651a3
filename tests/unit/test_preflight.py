"""The preflight (include/preflight.py) on an in-process account set up as a first deploy leaves
it: every check passes; then the set-up is broken on purpose, one way at a time, and the preflight
reports it with its fix (the integration tier runs the command itself against the local stack)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from include import preflight
from include.config import ROLES, USERS, WAREHOUSE

SNOWFLAKE_SECTIONS = ("connect", "session", "objects", "grants", "stage", "compile")
FORMAT = WAREHOUSE.qualified(WAREHOUSE.bronze, WAREHOUSE.file_format)
PASSWORD = "local"  # noqa: S105  # pragma: allowlist secret - the in-process stand-in ignores it


def _connection(login: str) -> str:
    extra = {"account": "local", "database": WAREHOUSE.database}
    return json.dumps(
        {"conn_type": "snowflake", "login": login, "password": PASSWORD, "schema": "BRONZE", "extra": extra}
    )


@pytest.fixture(scope="module")
def account() -> Iterator[Any]:
    """The account as the local stack has it: an internal stage the loader PUTs into (the stand-in
    cannot read an external stage's bucket)."""
    import dataclasses

    from include import config, sql_render
    from local.history import in_process_account

    put_mode = dataclasses.replace(WAREHOUSE, stage_mode="put")
    with pytest.MonkeyPatch.context() as env:
        env.setattr(config, "WAREHOUSE", put_mode)
        env.setitem(sql_render.SQL_GLOBALS, "wh", put_mode)
        env.setitem(sql_render._ENV.globals, "wh", put_mode)
        for conn_id, login in (
            ("SNOWFLAKE_DEFAULT", USERS.pipeline),
            ("SNOWFLAKE_DEPLOY", USERS.deploy),
            ("SNOWFLAKE_CONTROL_TOWER", USERS.control_tower),
            ("SNOWFLAKE_ADMIN", "local_admin"),
        ):
            env.setenv(f"AIRFLOW_CONN_{conn_id}", _connection(login))  # pragma: allowlist secret
        with in_process_account("put") as connect:
            yield connect


def _failures(sections: tuple[str, ...] = SNOWFLAKE_SECTIONS) -> dict[str, preflight.Check]:
    return {f"{c.section}: {c.name}": c for c in preflight.run(sections) if c.status == "FAIL"}


def test_a_prepared_account_passes_every_warehouse_check(account) -> None:
    checks = preflight.run(SNOWFLAKE_SECTIONS)
    assert [c for c in checks if c.status != "PASS"] == []
    sections = {c.section for c in checks}
    assert sections == set(SNOWFLAKE_SECTIONS)
    assert sum(c.section == "compile" for c in checks) > 60, "every template of a daily run, as its role"


def test_a_missing_grant_is_reported_with_the_grant_that_fixes_it(account) -> None:
    admin = account("local_admin").cursor()
    admin.execute(f"revoke usage on file format {FORMAT} from role {ROLES.loader}")
    try:
        failed = _failures(("grants", "stage"))
        grants = failed[f"grants: {ROLES.loader}"]
        assert "+USAGE on file_format" in grants.detail
        assert f"grant usage on file format {FORMAT} to role {ROLES.loader};" in grants.fix
        assert "COPY of each feed" in " ".join(failed), "and the load no longer compiles"
    finally:
        admin.execute(f"grant usage on file format {FORMAT} to role {ROLES.loader}")


def test_a_surplus_grant_is_reported_with_the_revoke(account) -> None:
    admin = account("local_admin").cursor()
    gold = WAREHOUSE.qualified(WAREHOUSE.gold, "DAILY_REVENUE")
    admin.execute(f"grant delete on table {gold} to role {ROLES.loader}")
    try:
        check = _failures(("grants",))[f"grants: {ROLES.loader}"]
        assert f"revoke delete on table {gold} from role {ROLES.loader};" in check.fix
    finally:
        admin.execute(f"revoke delete on table {gold} from role {ROLES.loader}")


def test_a_session_without_utc_is_reported(account, monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection opened without the platform's TIMEZONE runs on Los Angeles time."""
    from include import warehouse

    monkeypatch.setattr(
        warehouse, "SESSION_PARAMETERS", {k: v for k, v in warehouse.SESSION_PARAMETERS.items() if k != "TIMEZONE"}
    )
    failed = _failures(("session",))
    assert len(failed) == len(preflight.logins())
    check = next(iter(failed.values()))
    assert "TIMEZONE is 'America/Los_Angeles'" in check.detail and "TIMEZONE=UTC" in check.fix


def test_secondary_roles_are_reported_with_the_user_to_fix(account) -> None:
    admin = account("local_admin").cursor()
    admin.execute(f"alter user {USERS.control_tower} set default_secondary_roles = ('ALL')")
    try:
        check = _failures(("session",))[f"session: snowflake_control_tower as {ROLES.control_tower}"]
        assert f"alter user {USERS.control_tower} set default_secondary_roles = ()" in check.fix
    finally:
        admin.execute(f"alter user {USERS.control_tower} set default_secondary_roles = ()")


def test_a_missing_stage_is_reported_with_the_set_up_to_run(account) -> None:
    from include.sql_render import STAGE_STEP, render_sql, statements

    deploy = account(USERS.deploy).cursor()
    deploy.execute(f"drop stage {WAREHOUSE.stage_ref[1:]}")  # the same name in either mode
    try:
        check = _failures(("stage",))[f"stage: list {WAREHOUSE.stage_ref}"]
        assert "retail_warehouse_setup" in check.fix
    finally:
        for statement in statements(render_sql(f"bootstrap/{STAGE_STEP}.sql")):  # the set-up again
            deploy.execute(statement)
        admin = account("local_admin").cursor()
        for statement in statements(render_sql("security/roles_and_grants.sql")):
            admin.execute(statement)


def test_a_column_the_warehouse_lacks_is_reported_as_a_pending_migration(account) -> None:
    deploy = account(USERS.deploy).cursor()
    table = WAREHOUSE.qualified(WAREHOUSE.gold, "DAILY_KPI")
    deploy.execute(f"alter table {table} drop column orders")
    try:
        check = _failures(("objects",))["objects: the declared columns"]
        assert f"alter table {table} add column orders" in check.detail and "migrate" in check.fix
    finally:
        from include import migrations

        migrations.migrate(deploy, "preflight-test")
    assert _failures(("objects",)) == {}


def test_an_unreachable_databricks_job_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from include import config

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(config, "ML_SCORING_BACKEND", "databricks")
    monkeypatch.setattr(config, "DATABRICKS_SCORING_JOB_ID", "42")
    monkeypatch.setenv(
        "AIRFLOW_CONN_DATABRICKS_DEFAULT",
        json.dumps({"conn_type": "databricks", "host": f"http://127.0.0.1:{port}", "password": PASSWORD}),
    )
    (check,) = preflight.run(("databricks",))
    assert check.status == "FAIL" and "job 42" in check.name
    assert "python -m include.ml.databricks.deploy" in check.fix
