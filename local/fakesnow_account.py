"""Roles, users and grants in the local Snowflake stand-in, enforced as Snowflake enforces them.

fakesnow has no access control: every session may do anything, so a missing grant, a grant lost
when an object was replaced, or a task working with more than its role would pass every local test
and fail on the first deploy. Here the stand-in keeps an account's catalog - roles and the roles
granted to them, users with their default role and default secondary roles, privileges on objects,
future grants, owners - and checks every statement of a session of a known user against it:

- **Who is checked.** Sessions of users created with ``CREATE USER`` (the admin script,
  include/sql/security/00_account_admin.sql, creates the platform's). Other sessions - the
  administrator who runs that script, the tests' in-process warehouse - are an ACCOUNTADMIN.
- **Which roles count** (https://docs.snowflake.com/en/user-guide/security-access-control-overview#enforcement-model-with-primary-role-and-secondary-roles):
  the session's primary role (the login's role, or the user's DEFAULT_ROLE) with the roles granted
  to it; and, when secondary roles are ALL (``USE SECONDARY ROLES``, or the user's
  DEFAULT_SECONDARY_ROLES, ('ALL') by default: https://docs.snowflake.com/en/sql-reference/sql/create-user),
  every role granted to the user.
- **What each statement needs** (https://docs.snowflake.com/en/user-guide/security-access-control-privileges):
  USAGE on the database and schema of every object it names; SELECT on what it reads; INSERT,
  UPDATE, DELETE or TRUNCATE on what it writes; USAGE on a named file format and READ (internal) or
  USAGE (external) on a stage it loads from, WRITE to PUT into one; CREATE <kind> on the schema (or
  the database, or the account) to create an object, OWNERSHIP to replace, alter or drop one;
  OWNERSHIP or MANAGE GRANTS to grant on an object, MANAGE GRANTS for future grants, CREATE ROLE /
  CREATE USER for those.
- **Object lifecycle** (https://docs.snowflake.com/en/sql-reference/sql/grant-privilege#usage-notes):
  the creator's primary role owns a new object; ``GRANT ... ON ALL <kind>`` covers the objects that
  exist then; a new object (a replaced one too) gets the future grants of its schema; ``CREATE OR
  REPLACE`` drops the old object's grants, ``CREATE OR ALTER`` keeps them.

The catalog is kept in ``<db-path>/account.json`` by the server (it survives a restart, as an
account does); in-process it lives as long as the process.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import snowflake.connector.errors
import sqlglot
from fakesnow.cursor import FakeSnowflakeCursor
from sqlglot import exp

from local import fakesnow_snowflake as standin
from local.fakesnow_snowflake import Session

BUILT_IN_ROLES = ("ACCOUNTADMIN", "SECURITYADMIN", "USERADMIN", "SYSADMIN", "PUBLIC")
# object kinds as GRANT names them, singular -> plural
KINDS = {
    "TABLE": "TABLES",
    "VIEW": "VIEWS",
    "STAGE": "STAGES",
    "FILE FORMAT": "FILE FORMATS",
    "SCHEMA": "SCHEMAS",
}
_NAME = r"((?:\"[^\"]+\"|[\w$]+)(?:\.(?:\"[^\"]+\"|[\w$]+)){0,2})"


def _error(msg: str, errno: int = 3001, sqlstate: str = "42501") -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(msg=msg, errno=errno, sqlstate=sqlstate)


def _ident(name: str) -> str:
    return name[1:-1] if name.startswith('"') else name.upper()


def _parts(name: str) -> list[str]:
    return [_ident(p) for p in re.findall(r'"[^"]+"|[^.\s]+', name.strip())]


@dataclass
class Account:
    """The account's access-control catalog."""

    roles: set[str] = field(default_factory=lambda: set(BUILT_IN_ROLES))
    role_grants: dict[str, set[str]] = field(default_factory=dict)  # grantee role -> roles granted to it
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> properties and "roles"
    # (kind, name) -> role -> privileges; kind "ACCOUNT" has name ""
    grants: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # "PLURAL IN SCHEMA DB.S" -> role -> privileges
    future: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # "KIND NAME" -> role
    path: Path | None = None

    def save(self) -> None:
        if self.path is not None:
            state = {k: v for k, v in self.__dict__.items() if k != "path"}
            self.path.write_text(json.dumps(state, default=sorted, indent=1))

    @classmethod
    def load(cls, path: Path) -> Account:
        account = cls(path=path)
        if path.exists():
            state = json.loads(path.read_text())
            account.roles = set(state["roles"])
            account.role_grants = {k: set(v) for k, v in state["role_grants"].items()}
            account.users = {k: {**v, "roles": set(v.get("roles", []))} for k, v in state["users"].items()}
            account.grants, account.future, account.owners = state["grants"], state["future"], state["owners"]
        return account

    # -------------------------------------------------------------------------------- roles
    def closure(self, roles: set[str]) -> set[str]:
        found, todo = set(), list(roles)
        while todo:
            role = todo.pop()
            if role not in found:
                found.add(role)
                todo.extend(self.role_grants.get(role, ()))
        if "ACCOUNTADMIN" in found:
            found |= {"SECURITYADMIN", "SYSADMIN", "USERADMIN"}
        if "SECURITYADMIN" in found:
            found.add("USERADMIN")
        return found | {"PUBLIC"}

    def held(self, key: str, roles: set[str]) -> set[str]:
        return {p for role in roles for p in self.grants.get(key, {}).get(role, ())}

    def grant(self, key: str, role: str, privileges: set[str]) -> None:
        current = set(self.grants.setdefault(key, {}).get(role, ()))
        self.grants[key][role] = sorted(current | privileges)

    def revoke(self, key: str, role: str, privileges: set[str]) -> None:
        if role in self.grants.get(key, {}):
            left = set(self.grants[key][role]) - privileges
            if left:
                self.grants[key][role] = sorted(left)
            else:
                del self.grants[key][role]

    def created(self, kind: str, name: str, owner: str, *, keep_grants: bool = False) -> None:
        """A new object (or a replaced one): its owner, and the future grants of its schema."""
        key = f"{kind} {name}"
        if not keep_grants:
            self.grants.pop(key, None)
        self.owners[key] = owner
        container = name.rsplit(".", 1)[0]
        plural = KINDS.get(kind)
        if plural:
            in_ = "DATABASE" if kind == "SCHEMA" else "SCHEMA"
            for role, privileges in self.future.get(f"{plural} IN {in_} {container}", {}).items():
                self.grant(key, role, set(privileges))

    def dropped(self, kind: str, name: str) -> None:
        self.grants.pop(f"{kind} {name}", None)
        self.owners.pop(f"{kind} {name}", None)


ACCOUNT = Account()
_lock = threading.RLock()


def keep_in(path: Path) -> None:
    """The server: keep the catalog in ``path`` (loaded now, saved on every change)."""
    global ACCOUNT
    ACCOUNT = Account.load(path)


# ------------------------------------------------------------------------------- sessions
def restricted(state: Session) -> bool:
    return state.user is not None and state.user in ACCOUNT.users


def primary_role(state: Session) -> str:
    if state.role:
        return state.role
    user = ACCOUNT.users.get(state.user or "", {})
    return str(user.get("default_role") or "PUBLIC")


def secondary_roles(state: Session) -> str:
    if state.secondary_roles:
        return state.secondary_roles
    user = ACCOUNT.users.get(state.user or "", {})
    return str(user.get("default_secondary_roles", "ALL"))


def active_roles(state: Session) -> set[str]:
    if not restricted(state):
        return ACCOUNT.closure({state.role or "ACCOUNTADMIN"}) | {"ACCOUNTADMIN"}
    roles = {primary_role(state)}
    if secondary_roles(state) == "ALL":
        roles |= set(ACCOUNT.users[state.user]["roles"])  # type: ignore[index]
    return ACCOUNT.closure(roles)


def check_login(state: Session) -> None:
    """A restricted session's role must be granted to its user, directly or through the roles
    granted to it (https://docs.snowflake.com/en/sql-reference/sql/use-role); else Snowflake
    refuses the login."""
    if not (restricted(state) and state.role):
        return
    if state.role not in ACCOUNT.closure(set(ACCOUNT.users[state.user]["roles"])):  # type: ignore[index]
        raise _error(
            f"Role '{state.role}' specified in the connect string is not granted to this user.", 390189, "08004"
        )


# ---------------------------------------------------------------------------- statements
_CREATE_ROLE = re.compile(r"create\s+(or\s+replace\s+)?role\s+(if\s+not\s+exists\s+)?(\S+)", re.I)
_USER = re.compile(r"(create|alter)\s+user\s+(?:if\s+(?:not\s+)?exists\s+)?(\S+)\s*(?:set\s+)?(.*)$", re.I | re.S)
_GRANT_ROLE = re.compile(r"(grant|revoke)\s+role\s+(\S+)\s+(?:to|from)\s+(role|user)\s+(\S+)", re.I)
_GRANT = re.compile(
    r"(grant|revoke)\s+(.+?)\s+on\s+(.+?)\s+(?:to|from)\s+role\s+(\S+?)(?:\s+with\s+grant\s+option)?\s*;?\s*$",
    re.I | re.S,
)
_SHOW_GRANTS = re.compile(
    r"show\s+(future\s+)?grants\s+(to|on|in)\s+(role|user|schema|database|\w+(?:\s+format)?)\s+(\S+)", re.I
)
_USE_ROLE = re.compile(r"use\s+role\s+(\S+)", re.I)
_USE_SECONDARY = re.compile(r"use\s+secondary\s+roles\s+(all|none)", re.I)
_ACCOUNT_STATEMENT = re.compile(r"(create|alter|grant|revoke|show|use)\b", re.I)
_FUNCTIONS = re.compile(r"\b(current_role|current_secondary_roles|current_user)\s*\(\s*\)", re.I)


def handle(cursor: FakeSnowflakeCursor, state: Session, head: str) -> bool:
    """Answer the account statements; check every other statement's privileges. True: answered."""
    # the account statements, without the comments a trailing "-- ..." adds (they hold no strings)
    text = " ".join(re.sub(r"--[^\n]*", "", head).split()).rstrip(";").rstrip()
    with _lock:
        if _ACCOUNT_STATEMENT.match(text):
            for statement in (_role_statement, _user_statement, _grant_statement, _show_grants, _use_statement):
                if statement(cursor, state, text):
                    ACCOUNT.save()
                    return True
        if restricted(state):
            check(cursor, state, head.strip().rstrip(";").rstrip())
    return False


def rewrite(state: Session, command: str) -> str:
    """The session functions as literals (fakesnow answers them as if every session were one)."""
    if not _FUNCTIONS.search(command):
        return command

    def value(m: re.Match[str]) -> str:
        name = m[1].lower()
        if name == "current_role":
            return f"'{primary_role(state) if restricted(state) else (state.role or 'ACCOUNTADMIN')}'"
        if name == "current_user":
            return f"'{state.user or 'ADMIN'}'"
        roles = (
            sorted(ACCOUNT.users[state.user]["roles"]) if restricted(state) and secondary_roles(state) == "ALL" else []
        )  # type: ignore[index]
        return "'" + json.dumps({"roles": ",".join(roles), "value": "ALL" if roles else ""}) + "'"

    return _FUNCTIONS.sub(value, command)


def _role_statement(cursor: FakeSnowflakeCursor, state: Session, text: str) -> bool:
    m = _CREATE_ROLE.match(text)
    if not m:
        return False
    role = _ident(m[3])
    _require_global(state, "CREATE ROLE")
    existed = role in ACCOUNT.roles
    ACCOUNT.roles.add(role)
    if not existed:
        ACCOUNT.owners[f"ROLE {role}"] = primary_role(state) if restricted(state) else (state.role or "ACCOUNTADMIN")
    standin.status(
        cursor, f"Role {role} successfully created." if not existed else f"{role} already exists, statement succeeded."
    )
    return True


def _user_statement(cursor: FakeSnowflakeCursor, state: Session, text: str) -> bool:
    m = _USER.match(text)
    if not m:
        return False
    action, user = m[1].lower(), _ident(m[2])
    _require_global(state, "CREATE USER")
    properties = {k.lower(): v for k, v in re.findall(r"(\w+)\s*=\s*(\([^)]*\)|'[^']*'|\S+)", m[3])}
    if action == "alter" and user not in ACCOUNT.users:
        raise _error(f"User '{user}' does not exist or not authorized.", 2003, "02000")
    record = ACCOUNT.users.setdefault(user, {"roles": set(), "default_secondary_roles": "ALL"})
    if "default_role" in properties:
        record["default_role"] = _ident(properties["default_role"].strip("'"))
    if "default_secondary_roles" in properties:
        value = properties["default_secondary_roles"].strip("()").strip().strip("'").upper()
        record["default_secondary_roles"] = "ALL" if value == "ALL" else "NONE"
    standin.status(
        cursor, f"User {user} successfully created." if action == "create" else "Statement executed successfully."
    )
    return True


def _grant_statement(cursor: FakeSnowflakeCursor, state: Session, text: str) -> bool:
    if m := _GRANT_ROLE.match(text):
        verb, role, to_kind, grantee = m[1].lower(), _ident(m[2]), m[3].lower(), _ident(m[4])
        if role not in ACCOUNT.roles:
            raise _error(f"Role '{role}' does not exist or not authorized.", 2003, "02000")
        if restricted(state) and ACCOUNT.owners.get(f"ROLE {role}") not in active_roles(state):
            _require_global(state, "MANAGE GRANTS")
        if to_kind == "role":
            if grantee not in ACCOUNT.roles:
                raise _error(f"Role '{grantee}' does not exist or not authorized.", 2003, "02000")
            target = ACCOUNT.role_grants.setdefault(grantee, set())
        else:
            if grantee not in ACCOUNT.users:
                raise _error(f"User '{grantee}' does not exist or not authorized.", 2003, "02000")
            target = ACCOUNT.users[grantee]["roles"]
        (target.add if verb == "grant" else target.discard)(role)
        standin.status(cursor)
        return True
    m = _GRANT.match(text)
    if not m:
        return False
    verb, privileges, on, role = m[1].lower(), m[2], m[3].strip(), _ident(m[4])
    if role not in ACCOUNT.roles:
        raise _error(f"Role '{role}' does not exist or not authorized.", 2003, "02000")
    wanted = {" ".join(p.split()).upper() for p in privileges.split(",")}
    apply = ACCOUNT.grant if verb == "grant" else ACCOUNT.revoke
    if fm := re.match(
        r"(all|future)\s+(tables|views|stages|file\s+formats|schemas)\s+in\s+(schema|database)\s+(\S+)", on, re.I
    ):
        scope, plural, container_kind = fm[1].upper(), " ".join(fm[2].upper().split()), fm[3].upper()
        container = ".".join(_parts(fm[4]))
        if restricted(state) and (
            scope == "FUTURE" or ACCOUNT.owners.get(f"{container_kind} {container}") not in active_roles(state)
        ):
            _require_global(state, "MANAGE GRANTS")
        kind = next(k for k, v in KINDS.items() if v == plural)
        if scope == "FUTURE":
            key = f"{plural} IN {container_kind} {container}"
            current = set(ACCOUNT.future.setdefault(key, {}).get(role, ()))
            ACCOUNT.future[key][role] = sorted(current | wanted if verb == "grant" else current - wanted)
        else:
            for name in existing_objects(cursor, kind, container):
                apply(f"{kind} {name}", role, wanted)
    else:
        om = re.match(
            r"(account|warehouse|database|schema|integration|table|view|stage|file\s+format)\s*(\S*)", on, re.I
        )
        if not om:
            raise _error(f"SQL compilation error: the stand-in does not know grants on {on!r}", 1003, "42000")
        kind = " ".join(om[1].upper().split())
        name = "" if kind == "ACCOUNT" else ".".join(_qualify(cursor, _parts(om[2]), kind))
        if kind in ("TABLE", "VIEW", "STAGE", "FILE FORMAT", "SCHEMA", "DATABASE") and not object_exists(
            cursor, kind, name
        ):
            raise _error(f"{kind.title()} '{name}' does not exist or not authorized.", 2003, "02000")
        if restricted(state) and ACCOUNT.owners.get(f"{kind} {name}") not in active_roles(state):
            _require_global(state, "MANAGE GRANTS")
        apply(f"{kind} {name}", role, wanted)
    standin.status(cursor)
    return True


def _show_grants(cursor: FakeSnowflakeCursor, state: Session, text: str) -> bool:
    m = _SHOW_GRANTS.match(text)
    if not m:
        return False
    future, preposition, kind, name = bool(m[1]), m[2].lower(), m[3].upper(), m[4]
    rows: list[tuple] = []
    if future:
        container = ".".join(_parts(name))
        for key, by_role in sorted(ACCOUNT.future.items()):
            plural, _, where = key.partition(" IN ")
            if where == f"{kind} {container}":
                for role, privileges in sorted(by_role.items()):
                    for privilege in privileges:
                        rows.append(("", privilege, plural[:-1], f"{container}.<{plural[:-1]}>", "ROLE", role, "false"))
        standin._answer(
            cursor, rows, ["created_on", "privilege", "grant_on", "name", "grant_to", "grantee_name", "grant_option"]
        )
        return True
    if preposition == "to" and kind == "ROLE":
        role = _ident(name)
        for key, by_role in sorted(ACCOUNT.grants.items()):
            object_kind, object_name = _split_key(key)
            for privilege in by_role.get(role, ()):
                rows.append(("", privilege, object_kind.replace(" ", "_"), object_name, "ROLE", role, "false", ""))
        for key, owner in sorted(ACCOUNT.owners.items()):
            if owner == role:
                object_kind, object_name = _split_key(key)
                rows.append(("", "OWNERSHIP", object_kind.replace(" ", "_"), object_name, "ROLE", role, "true", ""))
        for granted in sorted(ACCOUNT.role_grants.get(role, ())):
            rows.append(("", "USAGE", "ROLE", granted, "ROLE", role, "false", ""))
    elif preposition == "to" and kind == "USER":
        user = _ident(name)
        for role in sorted(ACCOUNT.users.get(user, {}).get("roles", ())):
            rows.append(("", "", "", role, "USER", user, "", ""))
    elif preposition == "on":
        object_kind = kind.replace("_", " ")
        object_name = "" if object_kind == "ACCOUNT" else ".".join(_qualify(cursor, _parts(name), object_kind))
        for role, privileges in sorted(ACCOUNT.grants.get(f"{object_kind} {object_name}", {}).items()):
            for privilege in privileges:
                rows.append(("", privilege, object_kind.replace(" ", "_"), object_name, "ROLE", role, "false", ""))
    standin._answer(
        cursor,
        rows,
        ["created_on", "privilege", "granted_on", "name", "granted_to", "grantee_name", "grant_option", "granted_by"],
    )
    return True


def _split_key(key: str) -> tuple[str, str]:
    if key.startswith("FILE FORMAT "):
        return "FILE FORMAT", key[len("FILE FORMAT ") :]
    kind, _, name = key.partition(" ")
    return kind, name


def _use_statement(cursor: FakeSnowflakeCursor, state: Session, text: str) -> bool:
    if m := _USE_SECONDARY.match(text):
        state.secondary_roles = m[1].upper()
        standin.status(cursor)
        return True
    if m := _USE_ROLE.match(text):
        role = _ident(m[1])
        if restricted(state) and role not in ACCOUNT.closure(set(ACCOUNT.users[state.user]["roles"])):  # type: ignore[index]
            raise _error(f"Requested role '{role}' is not assigned to the executing user.", 3013, "42501")
        state.role = role
        standin.status(cursor)
        return True
    return False


# ------------------------------------------------------------------------------- catalogue
def _qualify(cursor: FakeSnowflakeCursor, parts: list[str], kind: str) -> list[str]:
    conn = cursor._conn
    want = {"DATABASE": 1, "WAREHOUSE": 1, "INTEGRATION": 1, "ACCOUNT": 1, "SCHEMA": 2}.get(kind, 3)
    context = [conn.database or "", conn.schema or ""]
    return [*context[: want - len(parts)], *parts] if len(parts) < want else parts


def existing_objects(cursor: FakeSnowflakeCursor, kind: str, container: str) -> list[str]:
    """The names of the objects of ``kind`` in ``container`` (a schema; a database for schemas)."""
    duck = cursor._conn._duck_conn.cursor()
    parts = container.split(".")
    if kind in ("TABLE", "VIEW"):
        rows = duck.execute(
            "select table_name from information_schema.tables "
            "where upper(table_catalog) = ? and upper(table_schema) = ? "
            "and table_type = ?",
            (parts[0], parts[1], "VIEW" if kind == "VIEW" else "BASE TABLE"),
        ).fetchall()
    elif kind == "SCHEMA":
        rows = duck.execute(
            "select schema_name from information_schema.schemata "
            "where upper(catalog_name) = ? and schema_name <> 'main'",
            (parts[0],),
        ).fetchall()
    else:
        table = "_fs_stages" if kind == "STAGE" else "_fs_file_formats"
        rows = duck.execute(
            f"select name from _fs_global._fs_information_schema.{table} where database_name = ? and schema_name = ?",
            (parts[0], parts[1]),
        ).fetchall()
    return [f"{container}.{name.upper()}" for (name,) in rows]


def object_exists(cursor: FakeSnowflakeCursor, kind: str, name: str) -> bool:
    parts = name.split(".")
    if kind == "DATABASE":
        duck = cursor._conn._duck_conn.cursor()
        return bool(
            duck.execute("select 1 from information_schema.schemata where upper(catalog_name) = ?", (name,)).fetchone()
        )
    if kind == "TABLE" or kind == "VIEW":
        return name in existing_objects(cursor, "TABLE", ".".join(parts[:2])) + existing_objects(
            cursor, "VIEW", ".".join(parts[:2])
        )
    return name in existing_objects(cursor, kind, ".".join(parts[:-1]))


def _external(cursor: FakeSnowflakeCursor, stage: str) -> bool:
    database, schema, name = stage.split(".")
    row = (
        cursor._conn._duck_conn.cursor()
        .execute(
            "select url from _fs_global._fs_information_schema._fs_stages "
            "where database_name = ? and schema_name = ? and upper(name) = ?",
            (database, schema, name),
        )
        .fetchone()
    )
    return bool(row and row[0] and not str(row[0]).startswith("file://"))


def _kind_of(cursor: FakeSnowflakeCursor, name: str) -> str:
    container = ".".join(name.split(".")[:2])
    return "VIEW" if name in existing_objects(cursor, "VIEW", container) else "TABLE"


# ---------------------------------------------------------------------------------- checks
def _ownership_message(kind: str, name: str) -> str:
    return f"SQL access control error:\nInsufficient privileges to operate on {kind.lower()} '{name}' (needs OWNERSHIP)"


def _require_global(state: Session, privilege: str) -> None:
    if not restricted(state):
        return
    roles = active_roles(state)
    implied = {
        "CREATE ROLE": {"USERADMIN", "SECURITYADMIN"},
        "CREATE USER": {"USERADMIN", "SECURITYADMIN"},
        "MANAGE GRANTS": {"SECURITYADMIN"},
        "CREATE DATABASE": {"SYSADMIN"},
    }.get(privilege, set())
    if roles & ({"ACCOUNTADMIN"} | implied) or privilege in ACCOUNT.held("ACCOUNT ", roles):
        return
    raise _error(f"SQL access control error: Insufficient privileges to operate on account (needs {privilege}).")


def _require(
    cursor: FakeSnowflakeCursor, state: Session, privilege: str, kind: str, name: str, roles: set[str]
) -> None:
    key = f"{kind} {name}"
    if ACCOUNT.owners.get(key) in roles or privilege in ACCOUNT.held(key, roles):
        return
    if kind in ("TABLE", "VIEW") and privilege == "SELECT" and ACCOUNT.held(key, roles) - {"USAGE"}:
        return  # Snowflake: any DML privilege on a table lets a statement read it for that DML
    label = {"FILE FORMAT": "File format", "STAGE": "Stage", "SCHEMA": "Schema", "DATABASE": "Database"}.get(kind)
    if privilege in ("SELECT", "USAGE", "READ") and label != "Stage" or kind in ("SCHEMA", "DATABASE"):
        raise _error(
            f"SQL compilation error:\n{label or 'Object'} '{name}' does not exist or not authorized. "
            f"(role {primary_role(state)} lacks {privilege} on {kind.lower()} {name})",
            2003,
            "42S02",
        )
    raise _error(
        f"SQL access control error:\nInsufficient privileges to operate on {kind.lower()} '{name.split('.')[-1]}' "
        f"(role {primary_role(state)} lacks {privilege} on {name})"
    )


def _usage_of_containers(cursor: FakeSnowflakeCursor, state: Session, name: str, roles: set[str]) -> None:
    parts = name.split(".")
    if len(parts) >= 1 and parts[0]:
        _require(cursor, state, "USAGE", "DATABASE", parts[0], roles)
    if len(parts) >= 2 and parts[1]:
        _require(cursor, state, "USAGE", "SCHEMA", ".".join(parts[:2]), roles)


def _table_name(cursor: FakeSnowflakeCursor, table: exp.Table) -> str | None:
    if not isinstance(table.this, exp.Identifier):
        return None  # a table function, a stage
    parts = [p.name if p.quoted else p.name.upper() for p in table.parts]  # type: ignore[attr-defined]
    return ".".join(_qualify(cursor, parts, "TABLE"))


def _reads(cursor: FakeSnowflakeCursor, tree: exp.Expression, skip: set[str]) -> set[str]:
    ctes = {cte.alias_or_name.upper() for cte in tree.find_all(exp.CTE)}
    found = set()
    for table in tree.find_all(exp.Table):
        if not table.args.get("db") and table.name.upper() in ctes:
            continue
        name = _table_name(cursor, table)
        if name and name not in skip and ".INFORMATION_SCHEMA." not in name and "._FS_" not in name:
            found.add(name)
    return found


_STAGE_REF = re.compile(r"@([\w$.\"]+)")
_FORMAT = re.compile(r"format_name\s*=\s*'?([\w$.\"]+)'?", re.I)


def check(cursor: FakeSnowflakeCursor, state: Session, text: str) -> None:
    """Raise as Snowflake would when the session's roles lack a privilege ``text`` needs."""
    roles = active_roles(state)
    lowered = text.lower()
    if lowered.startswith(("put ", "list ", "ls ", "remove ", "rm ")):
        stage = _STAGE_REF.search(text)
        if stage:
            name = ".".join(_qualify(cursor, _parts(stage[1].split("/")[0]), "STAGE"))
            _usage_of_containers(cursor, state, name, roles)
            if _external(cursor, name):  # an external stage is read with USAGE
                needed = "USAGE"
            else:
                needed = "WRITE" if lowered.startswith(("put", "remove", "rm")) else "READ"
            _require(cursor, state, needed, "STAGE", name, roles)
        return
    if lowered.startswith(
        ("show ", "describe ", "desc ", "use ", "alter session", "begin", "commit", "rollback", "explain ")
    ):
        if lowered.startswith("explain "):
            check(cursor, state, text[len("explain ") :].lstrip())
        return
    try:
        tree = sqlglot.parse_one(text, read="snowflake")
    except sqlglot.errors.SqlglotError:
        return  # fakesnow reports it
    written: dict[str, set[str]] = {}
    if isinstance(tree, exp.Create):
        _check_create(cursor, state, tree, roles)
        return
    if isinstance(tree, (exp.Alter, exp.Drop)):
        kind = str(tree.args.get("kind") or "TABLE").upper()
        target = tree.this if isinstance(tree.this, exp.Table) else tree.find(exp.Table)
        name = ".".join(_qualify(cursor, _parts(target.sql(dialect="snowflake")), kind)) if target is not None else ""
        if name and object_exists(cursor, kind, name) and ACCOUNT.owners.get(f"{kind} {name}") not in roles:
            raise _error(_ownership_message(kind, name))
        return
    if isinstance(tree, exp.Insert):
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        written.setdefault(_table_name(cursor, target) or "", set()).add("INSERT")
    elif isinstance(tree, exp.Update):
        written.setdefault(_table_name(cursor, tree.this) or "", set()).add("UPDATE")
    elif isinstance(tree, exp.Delete):
        written.setdefault(_table_name(cursor, tree.this) or "", set()).add("DELETE")
    elif isinstance(tree, exp.TruncateTable):
        for table in tree.expressions:
            written.setdefault(_table_name(cursor, table) or "", set()).add("TRUNCATE")
    elif isinstance(tree, exp.Merge):
        needed = set()
        whens = tree.args.get("whens")
        for when in whens.expressions if whens is not None else []:
            then = when.args.get("then")
            needed.add(
                "INSERT" if isinstance(then, exp.Insert) else "DELETE" if "delete" in then.sql().lower() else "UPDATE"
            )
        written.setdefault(_table_name(cursor, tree.this) or "", set()).update(needed)
    elif isinstance(tree, exp.Copy):
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        written.setdefault(_table_name(cursor, target) or "", set()).add("INSERT")
        stage = _STAGE_REF.search(text)
        if stage:
            name = ".".join(_qualify(cursor, _parts(stage[1].split("/")[0]), "STAGE"))
            _usage_of_containers(cursor, state, name, roles)
            if ACCOUNT.owners.get(f"STAGE {name}") not in roles and not ACCOUNT.held(f"STAGE {name}", roles) & {
                "READ",
                "USAGE",
            }:
                _require(cursor, state, "READ", "STAGE", name, roles)
        if fmt := _FORMAT.search(text):
            name = ".".join(_qualify(cursor, _parts(fmt[1]), "FILE FORMAT"))
            _usage_of_containers(cursor, state, name, roles)
            _require(cursor, state, "USAGE", "FILE FORMAT", name, roles)
    written.pop("", None)
    for name, privileges in written.items():
        _usage_of_containers(cursor, state, name, roles)
        for privilege in sorted(privileges):
            _require(cursor, state, privilege, "TABLE", name, roles)
    for name in _reads(cursor, tree, set(written)):
        _usage_of_containers(cursor, state, name, roles)
        _require(cursor, state, "SELECT", _kind_of(cursor, name), name, roles)


def _check_create(cursor: FakeSnowflakeCursor, state: Session, tree: exp.Create, roles: set[str]) -> None:
    kind = str(tree.args.get("kind") or "").upper()
    if kind == "DATABASE":
        if not object_exists(cursor, "DATABASE", _ident(tree.this.name)):
            _require_global(state, "CREATE DATABASE")
        return
    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    if kind == "SCHEMA":
        name = ".".join(_qualify(cursor, _parts(target.sql(dialect="snowflake")), "SCHEMA"))
        container_kind, container = "DATABASE", name.split(".")[0]
    else:
        name = ".".join(_qualify(cursor, _parts(target.sql(dialect="snowflake")), kind))
        container_kind, container = "SCHEMA", ".".join(name.split(".")[:2])
        _usage_of_containers(cursor, state, name, roles)
    exists = object_exists(cursor, kind, name) if kind in ("TABLE", "VIEW", "SCHEMA", "STAGE", "FILE FORMAT") else False
    if exists and tree.args.get("exists"):
        return  # "if not exists": nothing happens
    if exists and ACCOUNT.owners.get(f"{kind} {name}") not in roles:
        raise _error(_ownership_message(kind, name))
    if not exists and ACCOUNT.owners.get(f"{container_kind} {container}") not in roles:
        if f"CREATE {kind}" not in ACCOUNT.held(f"{container_kind} {container}", roles):
            raise _error(
                "SQL access control error:\nInsufficient privileges to operate on "
                f"{container_kind.lower()} '{container}' "
                f"(role {primary_role(state)} lacks CREATE {kind})"
            )
    expression = tree.args.get("expression")
    if expression is not None:
        for read in _reads(cursor, expression, {name}):
            _usage_of_containers(cursor, state, read, roles)
            _require(cursor, state, "SELECT", _kind_of(cursor, read), read, roles)


def record_created(cursor: FakeSnowflakeCursor, state: Session, text: str) -> None:
    """After a CREATE ran: its owner, its grants (kept, dropped, or the schema's future ones)."""
    text = " ".join(text.split()).rstrip(";")
    m = re.match(
        r"create\s+(or\s+replace\s+|or\s+alter\s+)?(?:temporary\s+|temp\s+|transient\s+|secure\s+)*"
        rf"(database|schema|table|view|stage|file\s+format)\s+(if\s+not\s+exists\s+)?{_NAME}",
        text,
        re.I,
    )
    if not m:
        return
    kind = " ".join(m[2].upper().split())
    name = ".".join(_qualify(cursor, _parts(m[4]), kind))
    key = f"{kind} {name}"
    alter = bool(m[1]) and "alter" in m[1].lower()
    if (m[3] or alter) and key in ACCOUNT.owners:
        return  # "if not exists" on an existing object, or CREATE OR ALTER: owner and grants stay
    owner = primary_role(state) if restricted(state) else (state.role or "ACCOUNTADMIN")
    with _lock:
        ACCOUNT.created(kind, name, owner)
        ACCOUNT.save()


def record_dropped(cursor: FakeSnowflakeCursor, text: str) -> None:
    m = re.match(rf"drop\s+(database|schema|table|view|stage|file\s+format)\s+(if\s+exists\s+)?{_NAME}", text, re.I)
    if m:
        kind = " ".join(m[1].upper().split())
        with _lock:
            ACCOUNT.dropped(kind, ".".join(_qualify(cursor, _parts(m[3]), kind)))
            ACCOUNT.save()


def apply() -> None:
    standin.add_extension(handle)
    standin.add_rewriter(rewrite)
    standin.add_after(_after)
    standin.add_login_check(check_login)


def _after(cursor: FakeSnowflakeCursor, state: Session, head: str) -> None:
    lowered = head.lstrip().lower()
    if lowered.startswith("create"):
        record_created(cursor, state, head)
    elif lowered.startswith("drop"):
        record_dropped(cursor, " ".join(head.split()).rstrip(";"))


def reset() -> None:
    """An empty account (in-process tests that set one up from scratch)."""
    global ACCOUNT
    ACCOUNT = Account()
