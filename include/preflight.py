"""Preflight: is an account ready for the platform's first daily run? Run it after the set-up DAG,
with the production connections, before unpausing the daily DAG (docs/production.md, "First
deploy on Snowflake"):

    python -m include.preflight                          # every check
    python -m include.preflight --only grants,compile    # some of them
    python -m include.preflight --business-date 2026-12-01

One line per check, ``PASS``/``FAIL``/``SKIP``, and under a failure the fix; exit status 1 when a
check failed. Nothing is written to the warehouse; in the bucket, one probe object under the
staging prefix is written and deleted. The checks, in order:

- ``connect``: each Snowflake connection logs in as each role its tasks work as;
- ``session``: each such session runs with TIMEZONE UTC, AUTOCOMMIT on, a LOCK_TIMEOUT, and no
  secondary roles (a task must work with its own role only);
- ``objects``: every table and view the set-up declares exists, with its declared columns and no
  other (no migration pending: include/migrations.py);
- ``grants``: every role's grants, read back with SHOW GRANTS, against the grants as code
  (include/sql/security/roles_and_grants.sql): missing and surplus;
- ``stage``: the loader lists the stage (through the storage integration, in production) and a
  COPY of each feed compiles against the file format (from an empty folder: nothing loads);
- ``compile``: every statement of a daily run compiles on the account as the role that runs it
  (EXPLAIN; include/sql_inventory.py lists them);
- ``s3``: the landing bucket's prefixes answer, and staging takes a write;
- ``alerts``: each alert channel of RETAIL_ALERT_CHANNELS answers (no message is sent);
- ``databricks``: the scoring job answers, where scoring runs there.
"""

from __future__ import annotations

import argparse
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

SECTIONS = ("connect", "session", "objects", "grants", "stage", "compile", "s3", "alerts", "databricks")


@dataclass(frozen=True)
class Check:
    section: str
    name: str
    status: str  # PASS | FAIL | SKIP
    detail: str = ""
    fix: str = ""

    def lines(self) -> list[str]:
        out = [f"{self.status}  {self.section}: {self.name}" + (f" - {self.detail}" if self.detail else "")]
        if self.status == "FAIL" and self.fix:
            out += [f"      fix: {line}" for line in self.fix.splitlines()]
        return out


def _pass(section: str, name: str, detail: str = "") -> Check:
    return Check(section, name, "PASS", detail)


def _fail(section: str, name: str, detail: str, fix: str) -> Check:
    return Check(section, name, "FAIL", " ".join(detail.split())[:300], fix)


# --------------------------------------------------------------------------------- sessions
@dataclass(frozen=True)
class Login:
    """One connection as one role: what a task's session is."""

    conn_id: str
    kind: str  # the role kind (include/warehouse.py TASK_ROLE_KINDS), or "owner"
    role: str
    user: str


def logins() -> list[Login]:
    from include.config import CONTROL_TOWER_CONN_ID, ROLES, SNOWFLAKE_CONN_ID, SNOWFLAKE_DEPLOY_CONN_ID, USERS

    return [
        Login(SNOWFLAKE_DEPLOY_CONN_ID, "owner", ROLES.owner, USERS.deploy),
        *(
            Login(SNOWFLAKE_CONN_ID, kind, getattr(ROLES, kind), USERS.pipeline)
            for kind in ("loader", "transformer", "ml", "run_logger")
        ),
        Login(CONTROL_TOWER_CONN_ID, "control_tower", ROLES.control_tower, USERS.control_tower),
    ]  # fmt: skip


class Sessions:
    """One open connection per login, opened on first use."""

    def __init__(self) -> None:
        self._open: dict[Login, Any] = {}
        self.errors: dict[Login, str] = {}

    def cursor(self, login: Login) -> Any | None:
        if login in self.errors:
            return None
        if login not in self._open:
            from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

            from include.warehouse import session_parameters

            try:
                hook = SnowflakeHook(
                    snowflake_conn_id=login.conn_id, role=login.role, session_parameters=session_parameters()
                )
                self._open[login] = hook.get_conn()
            except Exception as exc:  # noqa: BLE001 - reported as the check's failure
                self.errors[login] = f"{type(exc).__name__}: {exc}"
                return None
        return self._open[login].cursor()

    def close(self) -> None:
        for conn in self._open.values():
            with suppress(Exception):
                conn.close()


def _first(cursor: Any, sql: str) -> Any:
    cursor.execute(sql)
    return cursor.fetchone()


def check_connect(sessions: Sessions) -> Iterator[Check]:
    for login in logins():
        cur = sessions.cursor(login)
        name = f"{login.conn_id} as {login.role}"
        if cur is None:
            yield _fail(
                "connect",
                name,
                sessions.errors[login],
                f"the Airflow connection {login.conn_id} must log in as {login.user}, who must hold {login.role}: "
                "python -m include.snowflake_admin prepare (an account administrator), then its key pair",
            )
            continue
        user, role = _first(cur, "select current_user(), current_role()")
        yield _pass("connect", name, f"user {user}, role {role}")


def check_session(sessions: Sessions) -> Iterator[Check]:
    for login in logins():
        cur = sessions.cursor(login)
        if cur is None:
            yield Check("session", f"{login.conn_id} as {login.role}", "SKIP", "no session (see connect)")
            continue
        cur.execute("show parameters in session")
        values = {str(row[0]).upper(): str(row[1]) for row in cur.fetchall()}
        problems, fixes = [], []
        if values.get("TIMEZONE") != "UTC":
            problems.append(f"TIMEZONE is {values.get('TIMEZONE')!r}")
            fixes.append(
                "every Snowflake hook of the platform must set TIMEZONE=UTC (include/warehouse.py session_parameters): "
                "this session was opened without it"
            )
        if str(values.get("AUTOCOMMIT", "")).lower() != "true":
            problems.append(f"AUTOCOMMIT is {values.get('AUTOCOMMIT')!r}")
            fixes.append("sessions must run with AUTOCOMMIT=true (include/warehouse.py session_parameters)")
        if int(values.get("LOCK_TIMEOUT", "43200") or 43200) > 3600:
            problems.append(f"LOCK_TIMEOUT is {values.get('LOCK_TIMEOUT')} s")
            fixes.append("sessions must set LOCK_TIMEOUT (include/warehouse.py session_parameters)")
        (secondary,) = _first(cur, "select current_secondary_roles()")
        if '"roles": ""' not in str(secondary).replace('"roles":""', '"roles": ""'):
            problems.append(f"secondary roles active: {secondary}")
            fixes.append(
                f"alter user {login.user} set default_secondary_roles = ()"
                "   (python -m include.snowflake_admin prepare)"
            )
        name = f"{login.conn_id} as {login.role}"
        if problems:
            yield _fail("session", name, "; ".join(problems), "\n".join(fixes))
        else:
            yield _pass("session", name, "TIMEZONE UTC, AUTOCOMMIT on, LOCK_TIMEOUT set, no secondary roles")


# ------------------------------------------------------------------------------ objects, grants
def declared_objects() -> list[tuple[str, str]]:
    """(kind, qualified name) of every table and view the set-up creates."""
    from include.sql_render import table_statements

    found = []
    for statement in table_statements():
        m = re.match(
            r"\s*create\s+(?:or\s+replace\s+|or\s+alter\s+)?(table|view)\s+(?:if\s+not\s+exists\s+)?([\w$.]+)",
            re.sub(r"--[^\n]*", "", statement),
            re.IGNORECASE,
        )
        if m:
            found.append((m[1].upper(), m[2].upper()))
    return found


def check_objects(sessions: Sessions) -> Iterator[Check]:
    owner = next(login for login in logins() if login.kind == "owner")
    cur = sessions.cursor(owner)
    if cur is None:
        yield Check("objects", "the set-up's tables and views", "SKIP", "no owner session (see connect)")
        return
    missing = []
    for kind, name in declared_objects():
        try:
            cur.execute(f"describe {kind.lower()} {name}")
        except Exception:  # noqa: BLE001 - a missing object is the finding
            missing.append(f"{kind.lower()} {name}")
    if missing:
        yield _fail(
            "objects",
            f"{len(missing)} of {len(declared_objects())} tables and views missing",
            ", ".join(missing[:8]),
            "trigger the retail_warehouse_setup DAG (it creates them, idempotently)",
        )
    else:
        yield _pass("objects", "the set-up's tables and views", f"{len(declared_objects())} present")
    yield from _check_columns(cur)


def _check_columns(cur: Any) -> Iterator[Check]:
    """Every table has its declared columns and no other (include/migrations.py's plan)."""
    from include import migrations

    try:
        plan = migrations.plan(cur)
    except Exception as exc:  # noqa: BLE001 - e.g. no ledger yet: the set-up has not run
        yield _fail("objects", "the declared columns", f"{type(exc).__name__}: {exc}", "trigger retail_warehouse_setup")
        return
    if plan.refused:
        yield _fail(
            "objects",
            "the declared columns",
            f"{len(plan.refused)} difference(s) the set-up refuses to change",
            "\n".join(plan.refused[:5]) + "\nsee include/sql/migrations/README.md",
        )
    elif plan.scripts or plan.additions:
        pending = [s.label for s in plan.scripts] + plan.statements
        yield _fail(
            "objects",
            "the declared columns",
            f"{len(pending)} migration(s) pending: {', '.join(pending[:4])}",
            "trigger retail_warehouse_setup (its migrate task applies them)",
        )
    else:
        yield _pass("objects", "the declared columns", "every table has its declared columns, no other")


_GRANT = re.compile(r"^grant (?P<privileges>[a-z, ]+) on (?P<target>.+?) to role (?P<role>\w+)$", re.IGNORECASE)


def grants_as_code() -> tuple[dict[str, set[tuple[str, str, str]]], dict[str, set[str]]]:
    """(role -> {(privilege, object kind, object name or an "all"/"future" scope)}, role -> roles
    granted to it) from security/roles_and_grants.sql."""
    from include.sql_render import render_sql, statements

    privileges: dict[str, set[tuple[str, str, str]]] = {}
    roles: dict[str, set[str]] = {}
    for statement in statements(render_sql("security/roles_and_grants.sql")):
        text = " ".join(re.sub(r"--[^\n]*", "", statement).split()).rstrip(";").strip()
        if m := re.match(r"^grant role (\w+) to role (\w+)$", text, re.IGNORECASE):
            roles.setdefault(m[2].upper(), set()).add(m[1].upper())
        elif m := _GRANT.match(text):
            target = m["target"].upper()
            for privilege in m["privileges"].split(","):
                privileges.setdefault(m["role"].upper(), set()).add((privilege.strip().upper(), *_target(target)))
    return privileges, roles


def _target(target: str) -> tuple[str, str]:
    if m := re.match(r"(ALL|FUTURE) (TABLES|VIEWS) IN SCHEMA (\S+)", target):
        return f"{m[1]} {m[2]}", m[3]
    kind, _, name = target.partition(" ")
    if kind == "FILE":
        kind, name = "FILE_FORMAT", name.removeprefix("FORMAT ")
    return kind, name


def check_grants(sessions: Sessions) -> Iterator[Check]:
    """Each role's grants read back (SHOW GRANTS, through the administrator connection that applies
    them), against the grants as code; tables and views expanded from their schema-wide grants."""
    from include.config import ROLES, SNOWFLAKE_ADMIN_CONN_ID, WAREHOUSE

    admin = Login(SNOWFLAKE_ADMIN_CONN_ID, "admin", "", "")
    cur = sessions.cursor(admin)
    if cur is None:
        yield _fail(
            "grants",
            "read back",
            sessions.errors.get(admin, ""),
            f"define the Airflow connection {SNOWFLAKE_ADMIN_CONN_ID} (a role with MANAGE GRANTS, e.g. SECURITYADMIN)",
        )
        return
    expected, inherited = grants_as_code()
    schemas = ", ".join(repr(s) for s in WAREHOUSE.schemas)
    objects: dict[tuple[str, str], list[str]] = {}
    for plural, sql in (
        ("TABLES", f"select table_schema, table_name from {WAREHOUSE.database}.information_schema.tables "
                   f"where table_type = 'BASE TABLE' and table_schema in ({schemas})"),
        ("VIEWS", f"select table_schema, table_name from {WAREHOUSE.database}.information_schema.views "
                  f"where table_schema in ({schemas})"),
    ):  # fmt: skip
        cur.execute(sql)
        for schema, table in cur.fetchall():
            container = f"{WAREHOUSE.database}.{schema}".upper()
            objects.setdefault((plural, container), []).append(f"{container}.{table}".upper())
    platform = {ROLES.pipeline, *ROLES.task_roles}
    for role in sorted(platform):
        want: set[tuple[str, str, str]] = set()
        future: set[tuple[str, str, str]] = set()
        for privilege, kind, name in expected.get(role, set()):
            if kind.startswith("ALL "):
                plural = kind.split()[1]
                want |= {(privilege, plural[:-1], obj) for obj in objects.get((plural, name), [])}
            elif kind.startswith("FUTURE "):
                future.add((privilege, kind.split()[1][:-1], name))
            else:
                want.add((privilege, kind, name))
        want |= {("USAGE", "ROLE", granted) for granted in inherited.get(role, set())}
        cur.execute(f"show grants to role {role}")
        held = set()
        for row in cur.fetchall():
            privilege, granted_on, name = (
                str(row[1]).upper(),
                str(row[2]).upper().replace(" ", "_"),
                str(row[3]).upper(),
            )
            if privilege == "OWNERSHIP":
                continue
            # what the grants as code are about: the platform's database and roles, its warehouse
            if (
                name == WAREHOUSE.database
                or name.startswith(f"{WAREHOUSE.database}.")
                or granted_on == "WAREHOUSE"
                or (granted_on == "ROLE" and name in platform)
            ):
                held.add((privilege, granted_on, name))
        held_future = set()
        for schema in WAREHOUSE.schemas:
            cur.execute(f"show future grants in schema {WAREHOUSE.database}.{schema}")
            for row in cur.fetchall():
                if str(row[5]).upper() == role:
                    held_future.add(
                        (str(row[1]).upper(), str(row[2]).upper(), f"{WAREHOUSE.database}.{schema}".upper())
                    )
        missing = sorted(want - held) + sorted(future - held_future)
        surplus = sorted(held - want) + sorted(held_future - future)
        if missing or surplus:
            fixes = [_grant_sql("grant", *g, role) for g in missing] + [_grant_sql("revoke", *g, role) for g in surplus]
            shown = [f"+{g[0]} on {g[1].lower()} {g[2]}" for g in missing] + [
                f"-{g[0]} on {g[1].lower()} {g[2]}" for g in surplus
            ]
            detail = f"{len(missing)} missing, {len(surplus)} surplus: " + ", ".join(shown[:6])
            yield _fail("grants", role, detail, "\n".join(fixes[:20]) + ("\n..." if len(fixes) > 20 else ""))
        else:
            yield _pass("grants", role, f"{len(want)} grants and {len(future)} future grants as code")


def _grant_sql(verb: str, privilege: str, kind: str, name: str, role: str) -> str:
    word = "to" if verb == "grant" else "from"
    if privilege == "USAGE" and kind == "ROLE":
        return f"{verb} role {name} {word} role {role};"
    if kind in ("TABLE", "VIEW") and name.count(".") == 1:  # a future grant
        return f"{verb} {privilege.lower()} on future {kind.lower()}s in schema {name} {word} role {role};"
    return f"{verb} {privilege.lower()} on {kind.replace('_', ' ').lower()} {name} {word} role {role};"


# ---------------------------------------------------------------------------- stage, compile
def _login(kind: str) -> Login:
    return next(login for login in logins() if login.kind == kind)


def check_stage(sessions: Sessions) -> Iterator[Check]:
    from include.config import WAREHOUSE
    from include.contracts import load_contract
    from include.sql_render import render_sql, statements

    cur = sessions.cursor(_login("loader"))
    if cur is None:
        yield Check("stage", WAREHOUSE.stage_ref, "SKIP", "no loader session (see connect)")
        return
    try:
        cur.execute(f"list {WAREHOUSE.stage_ref}/_preflight/")
        yield _pass("stage", f"list {WAREHOUSE.stage_ref}", f"{WAREHOUSE.stage_mode} stage answers")
    except Exception as exc:  # noqa: BLE001
        fix = (
            "trigger retail_warehouse_setup (it creates the stage); external mode needs the storage integration "
            f"{WAREHOUSE.storage_integration} (docs/production.md) and USAGE on it for the owner role"
        )
        yield _fail("stage", f"list {WAREHOUSE.stage_ref}", f"{type(exc).__name__}: {exc}", fix)
        return
    failed = []
    for feed in load_contract().feeds.values():
        sql = render_sql(
            "bronze/load_feed.sql", feed=feed, batch_date=date(2000, 1, 1), staged_path="_preflight/", rejects_path=None
        )
        for statement in statements(sql):
            if statement.strip().lower().startswith("copy into"):
                try:
                    cur.execute(statement)  # an empty folder: nothing loads
                except Exception as exc:  # noqa: BLE001
                    failed.append(f"{feed.name}: {exc}")
    if failed:
        yield _fail(
            "stage",
            "COPY of each feed",
            "; ".join(failed[:3]),
            f"the loader needs USAGE on file format {WAREHOUSE.qualified(WAREHOUSE.bronze, WAREHOUSE.file_format)}, "
            "READ (internal) or USAGE (external) on the stage and INSERT on BRONZE: trigger retail_warehouse_setup "
            "(roles_and_grants)",
        )
    else:
        yield _pass("stage", "COPY of each feed", f"{len(load_contract().feeds)} feeds compile against the file format")


_COMPILED = re.compile(r"^(select|with|insert|update|delete|merge)\b", re.IGNORECASE)


def check_compile(sessions: Sessions, business_date: date) -> Iterator[Check]:
    from include import sql_inventory

    by_template: dict[tuple[str, str], list[str]] = {}
    counted: dict[tuple[str, str], int] = {}
    for rendering, statement in sql_inventory.sent(business_date, sql_inventory.daily_run(business_date)):
        text = re.sub(r"^(\s*--[^\n]*\n)+", "", statement).strip()
        if not _COMPILED.match(text):
            continue
        login = _login(rendering.role)
        key = (rendering.template, login.role)
        counted[key] = counted.get(key, 0) + 1
        cur = sessions.cursor(login)
        if cur is None:
            by_template.setdefault(key, []).append("no session (see connect)")
            continue
        try:
            cur.execute(f"explain {text}")
        except Exception as exc:  # noqa: BLE001 - what Snowflake says is the finding
            by_template.setdefault(key, []).append(f"{type(exc).__name__}: {exc}")
    for (template, role), count in sorted(counted.items()):
        errors = by_template.get((template, role))
        name = f"{template} as {role}"
        if errors:
            privileges = any("privilege" in e.lower() or "not authorized" in e.lower() for e in errors)
            fix = (
                f"{role} lacks a privilege this SQL needs: add it to include/sql/security/roles_and_grants.sql and "
                "trigger retail_warehouse_setup"
                if privileges
                else "the statement does not compile on this account: see the error; trigger retail_warehouse_setup "
                "if an object is missing"
            )
            yield _fail("compile", name, errors[0], fix)
        else:
            yield _pass("compile", name, f"{count} statement(s)")


# ---------------------------------------------------------------------- s3, alerts, databricks
def check_s3() -> Iterator[Check]:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from include.config import AWS_CONN_ID, LANDING

    bucket = LANDING.bucket
    try:
        hook = S3Hook(aws_conn_id=AWS_CONN_ID)
        hook.get_conn().head_bucket(Bucket=bucket)
    except Exception as exc:  # noqa: BLE001
        yield _fail(
            "s3",
            f"bucket {bucket}",
            f"{type(exc).__name__}: {exc}",
            f"the connection {AWS_CONN_ID} must reach bucket {bucket} (RETAIL_LANDING_BUCKET)",
        )
        return
    for prefix in (LANDING.inbox, LANDING.history, LANDING.quarantine, LANDING.staging):
        try:
            hook.list_keys(bucket_name=bucket, prefix=f"{prefix}/", max_items=1)
            yield _pass("s3", f"s3://{bucket}/{prefix}/", "lists")
        except Exception as exc:  # noqa: BLE001
            yield _fail(
                "s3", f"s3://{bucket}/{prefix}/", str(exc), f"the role behind {AWS_CONN_ID} needs s3:ListBucket on it"
            )
    probe = f"{LANDING.staging}/_preflight/{uuid.uuid4().hex}"
    try:
        hook.load_string("preflight", probe, bucket_name=bucket)
        hook.delete_objects(bucket, [probe])
        yield _pass("s3", f"write s3://{bucket}/{LANDING.staging}/", "a probe object written and deleted")
    except Exception as exc:  # noqa: BLE001
        yield _fail(
            "s3",
            f"write s3://{bucket}/{LANDING.staging}/",
            str(exc),
            f"the role behind {AWS_CONN_ID} needs s3:PutObject and s3:DeleteObject",
        )


def check_alerts() -> Iterator[Check]:
    from include.config import ALERT_CHANNELS, ALERT_SNS_TOPIC_ARN, AWS_CONN_ID, SLACK_WEBHOOK_CONN_ID, SMTP_CONN_ID

    for channel in ALERT_CHANNELS:
        try:
            if channel == "email":
                from airflow.providers.smtp.hooks.smtp import SmtpHook

                ok, message = SmtpHook(smtp_conn_id=SMTP_CONN_ID).test_connection()
                if not ok:
                    raise ConnectionError(message)
                yield _pass("alerts", f"email through {SMTP_CONN_ID}", "the mail relay answers")
            elif channel == "sns":
                from airflow.providers.amazon.aws.hooks.sns import SnsHook

                SnsHook(aws_conn_id=AWS_CONN_ID).get_conn().get_topic_attributes(TopicArn=ALERT_SNS_TOPIC_ARN)
                yield _pass("alerts", f"sns {ALERT_SNS_TOPIC_ARN}", "the topic answers")
            elif channel == "slack":
                from airflow.sdk import BaseHook

                BaseHook.get_connection(SLACK_WEBHOOK_CONN_ID)
                yield _pass(
                    "alerts", f"slack through {SLACK_WEBHOOK_CONN_ID}", "the connection exists (no message sent)"
                )
            else:
                yield _fail("alerts", channel, "unknown channel", "RETAIL_ALERT_CHANNELS: email, sns, slack")
        except Exception as exc:  # noqa: BLE001
            yield _fail(
                "alerts",
                channel,
                f"{type(exc).__name__}: {exc}",
                f"fix the connection of the {channel} channel (docs/production.md#alerts)",
            )


def check_databricks() -> Iterator[Check]:
    from include.config import DATABRICKS_CONN_ID, DATABRICKS_SCORING_JOB_ID, ML_SCORING_BACKEND

    if ML_SCORING_BACKEND != "databricks":
        yield Check(
            "databricks",
            "scoring job",
            "SKIP",
            f"scoring runs in Airflow (RETAIL_ML_SCORING_BACKEND={ML_SCORING_BACKEND})",
        )
        return
    if not DATABRICKS_SCORING_JOB_ID:
        yield _fail(
            "databricks",
            "scoring job",
            "RETAIL_DATABRICKS_SCORING_JOB_ID is empty",
            "python -m include.ml.databricks.deploy, then set the job id",
        )
        return
    try:
        from airflow.providers.databricks.hooks.databricks import DatabricksHook

        hook = DatabricksHook(databricks_conn_id=DATABRICKS_CONN_ID, retry_limit=1, retry_delay=1, timeout_seconds=10)
        job = hook._do_api_call(("GET", "2.2/jobs/get"), {"job_id": int(DATABRICKS_SCORING_JOB_ID)})
        yield _pass(
            "databricks", f"job {DATABRICKS_SCORING_JOB_ID}", str(job.get("settings", {}).get("name", "answers"))
        )
    except Exception as exc:  # noqa: BLE001
        yield _fail(
            "databricks",
            f"job {DATABRICKS_SCORING_JOB_ID}",
            f"{type(exc).__name__}: {exc}",
            f"the connection {DATABRICKS_CONN_ID} must reach the workspace and the job must exist "
            "(python -m include.ml.databricks.deploy creates it)",
        )


# --------------------------------------------------------------------------------------- run
def run(sections: tuple[str, ...] = SECTIONS, business_date: date | None = None) -> list[Check]:
    day = business_date or datetime.now(UTC).date() - timedelta(days=1)
    sessions = Sessions()
    steps: dict[str, Callable[[], Iterator[Check]]] = {
        "connect": lambda: check_connect(sessions),
        "session": lambda: check_session(sessions),
        "objects": lambda: check_objects(sessions),
        "grants": lambda: check_grants(sessions),
        "stage": lambda: check_stage(sessions),
        "compile": lambda: check_compile(sessions, day),
        "s3": check_s3,
        "alerts": check_alerts,
        "databricks": check_databricks,
    }
    results: list[Check] = []
    try:
        for section in SECTIONS:
            if section in sections:
                for check in steps[section]():
                    results.append(check)
                    print("\n".join(check.lines()), flush=True)  # noqa: T201 - the engineer reads it as it runs
    finally:
        sessions.close()
    return results


@contextmanager
def _quiet() -> Iterator[None]:
    import logging

    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.preflight", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections: {', '.join(SECTIONS)}")
    parser.add_argument(
        "--business-date", type=date.fromisoformat, help="the date whose statements compile (default: yesterday)"
    )
    args = parser.parse_args(argv)
    sections = tuple(s.strip() for s in args.only.split(",") if s.strip())
    if unknown := set(sections) - set(SECTIONS):
        parser.error(f"unknown sections {sorted(unknown)}; one of {', '.join(SECTIONS)}")
    with _quiet():
        results = run(sections, args.business_date)
    failed = [r for r in results if r.status == "FAIL"]
    print(
        f"\npreflight: {len(results)} checks, {len(failed)} failed, {sum(r.status == 'SKIP' for r in results)} skipped"
    )  # noqa: T201
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
