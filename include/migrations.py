"""Schema migrations: an existing warehouse follows the declarations.

Every ``create table if not exists`` of the set-up (include/sql/bootstrap/, rendered from the feed
contract and the MODEL/GOLD declarations) is the declaration of that table. The set-up DAG's
``migrate`` task, after the database and schemas exist and before the bootstrap files run, brings
an existing warehouse to them, in this order:

1. **versioned scripts**, ``include/sql/migrations/V<n>__<what>.sql``, for what a declaration
   cannot say: a drop, a rename, a type change, a data fix. Each runs once, in version order, and
   is recorded with its checksum; a script changed after it ran is refused (write a new one). On
   a fresh warehouse they are recorded as ``baseline`` without running: the bootstrap creates the
   current shape. DDL commits by itself in Snowflake, so a script must be safe to run again
   (``if exists``) should it fail halfway.
2. **declared columns**: a column a table's declaration has and the warehouse's table lacks is
   added (``alter table ... add column``) and recorded. It is added nullable and without its
   default: Snowflake adds a column to the rows a table already has, and a default must be a
   constant there (https://docs.snowflake.com/en/sql-reference/sql/alter-table, "ADD COLUMN");
   the declaration's not-null holds for the rows written from then on, and a declared check says
   so where it matters. Nothing reads a table by column position (explicit column lists
   everywhere), so an added column may sit last.
3. **refused**: a warehouse column that no declaration has (a drop loses data: write a versioned
   script that drops it) and a column whose type differs from its declaration. The task fails
   before changing anything, naming each.

New tables, views, stages and grants need nothing here: the bootstrap creates them. Every
applied change is a row of ``AUDIT.SCHEMA_MIGRATIONS``. Read-only:

    python -m include.migrations plan     # what the set-up would change on the account
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from include.config import WAREHOUSE
from include.sql_render import SQL_DIR, ref, render_text, statements, table_statements

MIGRATIONS_DIR = SQL_DIR / "migrations"
VERSIONED = re.compile(r"^V(?P<version>[0-9]+)__(?P<description>[a-z0-9_]+)\.sql$")
LEDGER = "audit.SCHEMA_MIGRATIONS"  # bootstrap/00_database_and_schemas.sql


class MigrationRefused(RuntimeError):
    """The warehouse differs from the declarations in a way the set-up does not change by itself."""


@dataclass(frozen=True)
class ColumnDecl:
    name: str  # upper case, as Snowflake stores an unquoted name
    type: str  # the type family and size information_schema reports: TEXT, NUMBER(12,2), DATE ...
    sql: str  # the type as declared


@dataclass(frozen=True)
class TableDecl:
    schema: str
    name: str
    columns: tuple[ColumnDecl, ...]

    @property
    def qualified(self) -> str:
        return f"{WAREHOUSE.database}.{self.schema}.{self.name}"


@dataclass(frozen=True)
class Script:
    version: int
    description: str
    path: Path

    @property
    def text(self) -> str:
        return self.path.read_text()

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def label(self) -> str:
        return self.path.name


@dataclass
class Plan:
    fresh: bool
    scripts: list[Script] = field(default_factory=list)  # to run (or, fresh, to record as baseline)
    additions: list[tuple[TableDecl, ColumnDecl]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    undeclared_tables: list[str] = field(default_factory=list)  # left alone, reported

    @property
    def statements(self) -> list[str]:
        return [add_column_statement(t, c) for t, c in self.additions]

    def lines(self) -> list[str]:
        out = [f"warehouse: {'fresh (scripts recorded as baseline)' if self.fresh else 'existing'}"]
        out += [f"script   {s.label}" for s in self.scripts]
        out += [f"add      {s}" for s in self.statements]
        out += [f"REFUSED  {r}" for r in self.refused]
        out += [
            f"ignored  {t}: no declaration has it (drop it in a versioned script if it is ours)"
            for t in self.undeclared_tables
        ]
        if self.scripts and not self.fresh:
            out.append("columns: compared after the scripts ran")
        elif len(out) == 1:
            out.append("nothing to change: the warehouse has every declared column")
        return out


def _type(kind: Any) -> str:
    """A declared type in information_schema's terms (TEXT, NUMBER(p,s), FLOAT, ...)."""
    from sqlglot import exp

    t = kind.this
    T = exp.DataType.Type
    if t in (T.VARCHAR, T.TEXT, T.CHAR, T.NCHAR, T.NVARCHAR):
        return "TEXT"
    if t in (T.DECIMAL, T.BIGDECIMAL):
        p, s = ([int(e.name) for e in kind.expressions] + [38, 0])[:2] if kind.expressions else (38, 0)
        if len(kind.expressions) == 1:
            s = 0
        return f"NUMBER({p},{s})"
    if t in (T.INT, T.BIGINT, T.SMALLINT, T.TINYINT):
        return "NUMBER(38,0)"
    if t in (T.FLOAT, T.DOUBLE):
        return "FLOAT"
    if t in (T.TIMESTAMP, T.TIMESTAMPNTZ, T.DATETIME):
        return "TIMESTAMP_NTZ"
    if t == T.TIMESTAMPTZ:
        return "TIMESTAMP_TZ"
    if t == T.TIMESTAMPLTZ:
        return "TIMESTAMP_LTZ"
    return t.name  # DATE, BOOLEAN, VARIANT, ...


def declared_tables(sql: Iterable[str] | None = None) -> dict[tuple[str, str], TableDecl]:
    """The tables the set-up declares, by (schema, table), from its ``create table`` statements."""
    import sqlglot
    from sqlglot import exp

    tables: dict[tuple[str, str], TableDecl] = {}
    for statement in table_statements() if sql is None else sql:
        tree = sqlglot.parse_one(statement, read="snowflake")
        if not (isinstance(tree, exp.Create) and tree.kind == "TABLE" and isinstance(tree.this, exp.Schema)):
            continue
        table = tree.this.this
        columns = tuple(
            ColumnDecl(c.name.upper(), _type(c.args["kind"]), c.args["kind"].sql("snowflake"))
            for c in tree.this.expressions
            if isinstance(c, exp.ColumnDef)
        )
        tables[(table.db.upper(), table.name.upper())] = TableDecl(table.db.upper(), table.name.upper(), columns)
    return tables


def scripts(directory: Path = MIGRATIONS_DIR) -> list[Script]:
    """The versioned scripts, in version order; a misnamed file or a repeated version is an error."""
    found: dict[int, Script] = {}
    for path in sorted(directory.glob("*.sql")) if directory.exists() else []:
        m = VERSIONED.match(path.name)
        if not m:
            raise MigrationRefused(f"{path.name}: a migration is named V<number>__<what_it_does>.sql")
        version = int(m["version"])
        if version in found:
            raise MigrationRefused(f"{path.name} and {found[version].label} share version {version}")
        found[version] = Script(version, m["description"], path)
    return [found[v] for v in sorted(found)]


def add_column_statement(table: TableDecl, column: ColumnDecl) -> str:
    return f"alter table {table.qualified} add column {column.name.lower()} {column.sql}"


def _warehouse_columns(cur: Any, schemas: set[str]) -> dict[tuple[str, str], dict[str, str]]:
    listed = ", ".join(f"'{s}'" for s in sorted(schemas))
    cur.execute(
        "select c.table_schema, c.table_name, c.column_name, c.data_type, c.numeric_precision, c.numeric_scale "
        f"from {WAREHOUSE.database}.information_schema.columns as c "
        f"join {WAREHOUSE.database}.information_schema.tables as t "
        "on t.table_schema = c.table_schema and t.table_name = c.table_name "
        f"where c.table_schema in ({listed}) and t.table_type = 'BASE TABLE' "
        "order by c.table_schema, c.table_name, c.ordinal_position"
    )
    found: dict[tuple[str, str], dict[str, str]] = {}
    for schema, table, column, data_type, precision, scale in cur.fetchall():
        kind = f"NUMBER({precision},{scale})" if data_type == "NUMBER" else data_type
        found.setdefault((schema.upper(), table.upper()), {})[column.upper()] = kind
    return found


def _applied(cur: Any) -> dict[int, tuple[str, str]]:
    """Versioned scripts the ledger has: version -> (file, checksum)."""
    cur.execute(
        f"select version, script, checksum from {ref(LEDGER)} "
        "where kind in ('versioned', 'baseline') and status = 'applied'"
    )
    return {int(v): (s, c) for v, s, c in cur.fetchall()}


def plan(cur: Any, declared: dict[tuple[str, str], TableDecl] | None = None, directory: Path = MIGRATIONS_DIR) -> Plan:
    """What ``migrate`` would do now. Reads the warehouse only."""
    declared = declared_tables() if declared is None else declared
    ledger_key = (WAREHOUSE.audit.upper(), LEDGER.split(".")[1])
    schemas = {schema for schema, _ in declared}
    existing = _warehouse_columns(cur, schemas)
    ours = [key for key in existing if key in declared and key != ledger_key]
    applied = _applied(cur) if ledger_key in existing else {}
    result = Plan(fresh=not ours and not applied)
    for script in scripts(directory):
        if script.version in applied:
            name, checksum = applied[script.version]
            if checksum != script.checksum:
                result.refused.append(
                    f"{script.label} changed after it was applied as {name} (checksum {checksum[:12]}, "
                    f"now {script.checksum[:12]}): a migration that ran is never edited; write a new version"
                )
        else:
            result.scripts.append(script)
    if result.fresh:
        return result
    # what the pending scripts do is not known before they run: the columns are compared after them
    if result.scripts:
        return result
    _compare(existing, declared, result)
    return result


def _compare(
    existing: dict[tuple[str, str], dict[str, str]], declared: dict[tuple[str, str], TableDecl], result: Plan
) -> None:
    for key, have in existing.items():
        table = declared.get(key)
        if table is None:
            result.undeclared_tables.append(".".join(key))
            continue
        wanted = {c.name: c for c in table.columns}
        for name, kind in have.items():
            if name not in wanted:
                result.refused.append(
                    f"{table.qualified}.{name.lower()} is in the warehouse but in no declaration: dropping it "
                    f"loses data, so the set-up does not; if it is meant, drop it in a versioned migration "
                    f"({MIGRATIONS_DIR.relative_to(SQL_DIR.parent.parent)}/V<n>__drop_{name.lower()}.sql)"
                )
            elif wanted[name].type != kind:
                result.refused.append(
                    f"{table.qualified}.{name.lower()} is {kind} in the warehouse, declared {wanted[name].sql}: "
                    "a type change is a versioned migration"
                )
        result.additions += [(table, c) for c in table.columns if c.name not in have]


def _record(cur: Any, kind: str, run_id: str, *, script: Script | None = None, statement: str | None = None) -> None:
    cur.execute(
        f"insert into {ref(LEDGER)} "
        "(version, kind, description, script, checksum, statement, status, applied_by, run_id) "
        "values (%(version)s, %(kind)s, %(description)s, %(script)s, %(checksum)s, %(statement)s, 'applied', "
        "current_role(), %(run_id)s)",
        {
            "version": script.version if script else None,
            "kind": kind,
            "description": script.description.replace("_", " ") if script else "declared column",
            "script": script.label if script else None,
            "checksum": script.checksum if script else None,
            "statement": statement,
            "run_id": run_id,
        },
    )


def migrate(cur: Any, run_id: str, directory: Path = MIGRATIONS_DIR) -> Plan:
    """Bring the warehouse to the declarations (see the module's text); returns what was done."""
    declared = declared_tables()
    first = plan(cur, declared, directory)
    if first.refused:
        raise MigrationRefused("the set-up changed nothing:\n" + "\n".join(f"- {r}" for r in first.refused))
    for script in first.scripts:
        if first.fresh:
            _record(cur, "baseline", run_id, script=script)
            continue
        for statement in statements(render_text(script.text)):
            cur.execute(statement)
        _record(cur, "versioned", run_id, script=script)
    if first.fresh:
        return first
    # the columns, compared after the scripts ran
    done = Plan(fresh=False, scripts=first.scripts)
    _compare(_warehouse_columns(cur, {s for s, _ in declared}), declared, done)
    if done.refused:
        raise MigrationRefused(
            "after the versioned scripts, the warehouse still differs:\n" + "\n".join(f"- {r}" for r in done.refused)
        )
    for statement in done.statements:
        cur.execute(statement)
        _record(cur, "declared", run_id, statement=statement)
    return done


def main(argv: list[str] | None = None) -> int:
    import argparse

    from include.config import ROLES, SNOWFLAKE_DEPLOY_CONN_ID
    from include.warehouse import session_parameters

    parser = argparse.ArgumentParser(prog="python -m include.migrations", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["plan"])
    parser.parse_args(argv)
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    hook = SnowflakeHook(
        snowflake_conn_id=SNOWFLAKE_DEPLOY_CONN_ID, role=ROLES.owner, session_parameters=session_parameters()
    )
    conn = hook.get_conn()
    try:
        result = plan(conn.cursor())
    finally:
        conn.close()
    print("\n".join(result.lines()))
    return 1 if result.refused else 0


if __name__ == "__main__":
    raise SystemExit(main())
