"""Identity proof: the same dates processed in order, or newest first several at a time, end in
the same warehouse.

Used by ``tests/integration/test_identity.py`` and, at a larger scale, by
``python -m benchmarks.identity``. Both drive the real local stack through the Airflow API:

1. a fresh warehouse, dates D1..Dn backfilled one at a time in order (``max_active_runs=1``);
2. a fresh warehouse again, the same dates as one backfill run backwards with several runs at a
   time (the dates' files are now read from ``history/``, as any re-run reads them);
3. every SILVER, MODEL, GOLD and ML table compared by a content hash that ignores only load
   timestamps and run ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from include.config import WAREHOUSE

# What differs between two correct runs of the same data: when rows were written and by which run.
IGNORED_COLUMNS = frozenset({"_LOADED_AT", "RUN_ID", "PUBLISHED_AT", "SCORED_AT", "CREATED_AT", "BUILT_AT"})
# Logs, not data: one row per publication (its order and window contents depend on the run order).
LOG_TABLES = frozenset({f"{WAREHOUSE.gold}.PUBLICATIONS"})
# A step's scratch, emptied by each of its runs: what the last run of fct_order_items or
# dim_customer found changed (include/sql/bootstrap/11_change_tracking.sql), so run-order dependent.
WORK_TABLES = frozenset({f"{WAREHOUSE.model}.ORDER_LINE_CHANGES", f"{WAREHOUSE.model}.CUSTOMER_VERSION_CHANGES"})
# Views whose rows are derived when read (recency, tenure, RFM scores): compared as readers see them.
DERIVED_VIEWS = (f"{WAREHOUSE.gold}.CUSTOMER_RFM", f"{WAREHOUSE.gold}.CUSTOMER_FEATURES")


# Tables up to this many rows keep their rows beside the hash, so a difference can be shown.
KEPT_ROWS = 5_000


@dataclass(frozen=True)
class TableHash:
    rows: int
    sha256: str
    lines: tuple[str, ...] = field(default=(), compare=False, repr=False)


def content_hashes(hook: Any, schemas: tuple[str, ...] | None = None) -> dict[str, TableHash]:
    """Rows and a content hash of every base table in ``schemas`` (SILVER, MODEL, GOLD, ML), and
    of GOLD's customer views."""
    schemas = schemas or (WAREHOUSE.silver, WAREHOUSE.model, WAREHOUSE.gold, WAREHOUSE.ml)
    names = ", ".join(f"'{s}'" for s in schemas)
    tables = hook.get_records(
        f"select table_schema, table_name from {WAREHOUSE.database}.information_schema.tables "
        f"where table_schema in ({names}) and table_type = 'BASE TABLE' order by 1, 2"
    )
    out: dict[str, TableHash] = {}
    views = [tuple(v.split(".")) for v in DERIVED_VIEWS if v.split(".")[0] in schemas]
    for schema, table in [*tables, *views]:
        name = f"{schema}.{table}"
        if name in LOG_TABLES or name in WORK_TABLES:
            continue
        conn = hook.get_conn()
        try:
            cur = conn.cursor()
            cur.execute(f"select * from {WAREHOUSE.database}.{name}")
            columns = [d[0].upper() for d in cur.description]
            keep = [i for i, c in enumerate(columns) if c not in IGNORED_COLUMNS]
            rows = sorted(repr(tuple(row[i] for i in keep)) for row in cur.fetchall())
        finally:
            conn.close()
        digest = hashlib.sha256("\n".join([",".join(columns[i] for i in keep), *rows]).encode()).hexdigest()
        out[name] = TableHash(len(rows), digest, tuple(rows) if len(rows) <= KEPT_ROWS else ())
    return out


def empty_warehouse(hook: Any) -> None:
    """Every table of the warehouse emptied and re-seeded, as on a fresh install. ``hook``: the
    owner role's (the stack's snowflake_deploy), which may empty every table and replace the views.

    The re-seeding applies the set-up DAG's own statements (include/sql/bootstrap, idempotent) in
    this process: the stage is not a table and is kept, so its step is skipped. Through the
    scheduler the set-up DAG took 22 s per reset (tests/integration/conftest.py runs it once).
    """
    from include.sql_render import table_statements

    tables = hook.get_records(
        f"select table_schema, table_name from {WAREHOUSE.database}.information_schema.tables "
        f"where table_type = 'BASE TABLE' and table_schema in ({', '.join(repr(s) for s in WAREHOUSE.schemas)})"
    )
    for schema, table in tables:
        hook.run(f"delete from {WAREHOUSE.database}.{schema}.{table}", autocommit=True)
    hook.run(table_statements(), autocommit=True)


def differences(a: dict[str, TableHash], b: dict[str, TableHash]) -> dict[str, tuple[Any, Any]]:
    return {t: (a.get(t), b.get(t)) for t in sorted(set(a) | set(b)) if a.get(t) != b.get(t)}


def differing_rows(a: TableHash, b: TableHash, limit: int = 5) -> dict[str, list[str]]:
    """Up to ``limit`` rows found only in ``a`` and only in ``b`` (for tables small enough to keep)."""
    only_a, only_b = sorted(set(a.lines) - set(b.lines)), sorted(set(b.lines) - set(a.lines))
    return {"only in the first": only_a[:limit], "only in the second": only_b[:limit]}


@dataclass
class Pass:
    name: str
    seconds: float
    states: dict[date, str]
    hashes: dict[str, TableHash] = field(default_factory=dict)


def run_pass(
    api: Any,
    hook: Any,
    name: str,
    first: date,
    days: int,
    *,
    max_active_runs: int,
    backwards: bool,
    fresh: bool,
    timeout: float,
    check: Callable[[], None] | None = None,
) -> Pass:
    """Backfill [first, first + days) as one backfill (every run re-processed), then hash the warehouse."""
    import time

    from local import session

    if fresh:
        empty_warehouse(session.snowflake_hook("snowflake_deploy"))
    last = first + timedelta(days=days - 1)
    started = time.monotonic()
    backfill = session.backfill(
        api, first, last, max_active_runs=max_active_runs, reprocess="completed", run_backwards=backwards
    )
    try:
        api.wait_for_backfill(backfill, timeout, check=check)
    except BaseException:
        # never leave a running backfill behind: the next one for the DAG would be refused
        api.cancel_backfill(backfill)
        raise
    seconds = time.monotonic() - started
    states = {
        session.business_date_of(r): r["state"]
        for r in api.runs(session.DAILY_DAG)
        if r["run_type"] == "backfill" and first <= session.business_date_of(r) <= last
    }
    return Pass(name, seconds, states, content_hashes(hook))
