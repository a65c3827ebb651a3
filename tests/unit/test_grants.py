"""The Snowflake roles and grants (include/sql/security/roles_and_grants.sql) give each role what
its SQL needs and nothing more.

These tests check the rendered statements against what the project's own SQL reads and writes,
without a warehouse: every table a step's SQL names is granted to the role that runs the step, and
no role holds a privilege outside its layer (tables a template names through a variable, as the
SILVER merges do, are covered by the schema-wide grants the layer tests require). The local
stand-in enforces the same grants at run time (local/fakesnow_account.py), and the preflight reads
them back on an account (include/preflight.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from include.config import ROLES, WAREHOUSE
from include.sql_render import SQL_DIR, render_sql, statements

GRANT = re.compile(
    r"^grant (?P<privileges>[a-z, ]+) on (?P<target>.+?) to role (?P<role>\w+)$", re.IGNORECASE | re.DOTALL
)
REFERENCE = re.compile(r"\{\{ wh\.(\w+) \}\}\.([A-Z_]+)\b")
WRITE = re.compile(
    r"\b(insert into|update|delete from|merge into|copy into)\s*"
    r"\{\{ wh\.database \}\}\.\{\{ wh\.(\w+) \}\}\.([A-Z_]+)\b"
)
SCHEMAS = {"bronze", "silver", "model", "gold", "gold_stage", "ml", "audit"}


INHERITS: dict[str, set[str]] = {}  # role -> the roles granted to it


def _grants() -> list[tuple[set[str], str, str]]:
    found = []
    for statement in statements(render_sql("security/roles_and_grants.sql")):
        text = " ".join(statement.strip().rstrip(";").split())
        if inherited := re.match(r"^grant role (\w+) to role (\w+)$", text, re.IGNORECASE):
            INHERITS.setdefault(inherited[2], set()).add(inherited[1])
            continue
        if text.lower().startswith("create role if not exists"):
            continue
        match = GRANT.match(text)
        assert match, f"not a plain grant to a role: {text}"
        privileges = {p.strip().lower() for p in match["privileges"].split(",")}
        found.append((privileges, match["target"].lower(), match["role"]))
    return found


GRANTS = _grants()


def _roles_of(role: str) -> set[str]:
    """The role and every role granted to it, transitively."""
    found, todo = set(), [role]
    while todo:
        if (current := todo.pop()) not in found:
            found.add(current)
            todo.extend(INHERITS.get(current, ()))
    return found


def _holds(role: str, privilege: str, schema: str, table: str) -> bool:
    qualified = WAREHOUSE.qualified(schema, table).lower()
    in_schema = f"{WAREHOUSE.database}.{schema}".lower()
    roles = _roles_of(role)
    for privileges, target, grantee in GRANTS:
        if grantee not in roles or privilege not in privileges:
            continue
        if target in (f"table {qualified}", f"all tables in schema {in_schema}", f"all views in schema {in_schema}"):
            return True
    return False


def _role_running(path: Path) -> str:
    """Which role runs a SQL file in production: the SQL inventory's map (include/sql_inventory.py)."""
    from include.sql_inventory import role_of

    return getattr(ROLES, role_of(path.relative_to(SQL_DIR).as_posix()))


STEP_SQL = sorted(p for p in SQL_DIR.rglob("*.sql") if p.parent.name not in ("bootstrap", "security"))


def test_every_statement_is_create_role_or_a_plain_grant() -> None:
    rendered = " ".join(statements(render_sql("security/roles_and_grants.sql"))).lower()
    for forbidden in ("ownership", "all privileges", "manage grants", "drop ", "revoke ", "create schema"):
        assert forbidden not in rendered
    assert len(GRANTS) > 40


@pytest.mark.parametrize("path", STEP_SQL, ids=lambda p: str(p.relative_to(SQL_DIR)))
def test_the_role_running_a_step_holds_every_privilege_its_sql_needs(path: Path) -> None:
    text, role = path.read_text(), _role_running(path)
    for schema, table in REFERENCE.findall(text):
        if schema in SCHEMAS:
            assert _holds(role, "select", getattr(WAREHOUSE, schema), table), f"{role} cannot read {schema}.{table}"
    for verb, schema, table in WRITE.findall(text):
        privilege = {"insert into": "insert", "copy into": "insert", "update": "update", "delete from": "delete"}
        needed = ["insert", "update"] if verb == "merge into" else [privilege[verb]]
        for p in needed:
            assert _holds(role, p, getattr(WAREHOUSE, schema), table), f"{role} cannot {p} {schema}.{table}"


def _schemas_touched(role: str) -> set[str]:
    return {
        target.split(" in schema ")[-1].split(".")[1] if " in schema " in target else target.split(".")[1]
        for _, target, grantee in GRANTS
        if grantee == role and not target.startswith(("warehouse ", "database "))
    }


def test_each_role_stays_in_its_layers() -> None:
    w = {s: getattr(WAREHOUSE, s).lower() for s in SCHEMAS}
    assert _schemas_touched(ROLES.loader) == {w["bronze"], w["audit"]}
    assert _schemas_touched(ROLES.ml) == {w["bronze"], w["model"], w["gold"], w["ml"]}
    # of BRONZE, only the orders feed (which label windows were delivered), read only
    ml_bronze = {(frozenset(p), t) for p, t, g in GRANTS if g == ROLES.ml and f".{w['bronze']}" in t}
    assert ml_bronze == {
        (frozenset({"usage"}), f"schema {WAREHOUSE.database.lower()}.{w['bronze']}"),
        (frozenset({"select"}), f"table {WAREHOUSE.qualified(WAREHOUSE.bronze, 'ORDERS').lower()}"),
    }
    assert _schemas_touched(ROLES.bi_reader) == {w["gold"]}
    assert _schemas_touched(ROLES.auditor) == {w["audit"]}
    # the Control Tower: the BI reader's and the auditor's (inherited), and the ML schema's views
    assert _schemas_touched(ROLES.control_tower) == {w["ml"]}
    assert _roles_of(ROLES.control_tower) == {ROLES.control_tower, ROLES.bi_reader, ROLES.auditor}
    assert _schemas_touched(ROLES.run_logger) == {w["audit"]}
    assert w["ml"] not in _schemas_touched(ROLES.transformer)


def test_readers_only_read() -> None:
    for role in (ROLES.bi_reader, ROLES.auditor, ROLES.control_tower):
        assert {p for privileges, _, grantee in GRANTS if grantee == role for p in privileges} <= {"usage", "select"}
    # the BI reader sees GOLD's views, never its tables (nor the staging copy); the Control Tower
    # sees ML's views, never its tables (scores, features)
    for role in (ROLES.bi_reader, ROLES.control_tower):
        targets = {target for _, target, grantee in GRANTS if grantee == role}
        assert not any("tables" in t or t.startswith("table ") for t in targets), role
    # no role is granted a role that writes to the readers
    assert not (_roles_of(ROLES.control_tower) & {ROLES.pipeline, ROLES.loader, ROLES.transformer, ROLES.ml})


def test_writers_write_only_their_own_layers() -> None:
    writes = {"insert", "update", "delete"}
    for role, allowed in (
        (ROLES.loader, {WAREHOUSE.bronze, WAREHOUSE.audit}),
        (ROLES.transformer, {WAREHOUSE.silver, WAREHOUSE.model, WAREHOUSE.gold_stage, WAREHOUSE.gold, WAREHOUSE.audit}),
        (ROLES.ml, {WAREHOUSE.ml}),
    ):
        for privileges, target, grantee in GRANTS:
            if grantee == role and privileges & writes:
                schema = target.split(" in schema ")[-1] if " in schema " in target else target.split(" ", 1)[1]
                assert schema.split(".")[1] in {s.lower() for s in allowed}, f"{role}: {privileges} on {target}"


def test_tasks_work_as_their_role_when_task_roles_are_on(monkeypatch) -> None:
    """RETAIL_TASK_ROLES=true: loads as the loader, SQL steps as the transformer, ML as ML, the
    audit writer as the run logger; off (the local stand-in has no roles): the connection's role."""
    from datetime import datetime

    from include.transform.operators import LayerSQLOperator
    from include.warehouse import role_param, snowflake_hook

    context = {"params": {"lookback_days": 7, "business_date": None}, "logical_date": datetime(2026, 6, 1)}
    step = LayerSQLOperator(task_id="silver_orders", sql="select 1")
    step.render_template_fields(dict(context))
    assert role_param("loader") == {} and step.hook_params.get("role") is None
    monkeypatch.setenv("RETAIL_TASK_ROLES", "true")
    assert [snowflake_hook(kind).role for kind in ("loader", "transformer", "ml", "run_logger")] == [
        ROLES.loader, ROLES.transformer, ROLES.ml, ROLES.run_logger
    ]  # fmt: skip
    step.render_template_fields(dict(context))
    assert step.hook_params["role"] == ROLES.transformer
    with pytest.raises(ValueError, match="unknown task role"):
        role_param("accountadmin")


def test_each_python_task_of_the_daily_dag_names_the_role_it_works_as() -> None:
    import ast

    source = (SQL_DIR.parents[1] / "dags" / "retail_daily.py").read_text()
    used = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "_snowflake":
                    used.setdefault(node.name, set()).add(call.args[0].value)
    assert used == {
        "sweep_inbox": {"loader"},
        "validate_file": {"loader"},
        "load_bronze": {"loader"},
        "acquire_transform_lock": {"transformer"},
        "release_transform_lock": {"transformer"},
        "train_churn_model": {"ml"},
        "score_churn_customers": {"ml"},
        "monitor_churn_model": {"ml"},
    }


def test_the_control_tower_reads_gold_and_ml_only_through_views() -> None:
    """Its role holds GOLD's and ML's views, not their tables: a query naming a table would fail
    in production although the stand-in (no grants) would answer it."""
    for path in sorted((SQL_DIR / "control_tower").glob("*.sql")):
        for schema, name in REFERENCE.findall(path.read_text()):
            if schema in ("gold", "ml"):
                assert name.startswith("V_"), f"{path.name} reads the table {schema}.{name}"
