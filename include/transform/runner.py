"""Run the layer SQL under include/sql/<layer>/ and the data-quality checks under include/sql/dq/.

Each object's file is atomic: a single MERGE on its own, a delete + insert in one transaction, so
a failed statement leaves the object as it was.
GOLD is different: all of its objects and its critical checks run in one transaction that is
rolled back when a critical check fails, so a bad window is never published.

Concurrency: the DAG runs ``transform_window`` for one date at a time across all runs
(max_active_tis_per_dag=1), so no other run writes SILVER, MODEL or GOLD between this run's
merge, its gates and its publication. Every step rebuilds what its window touched from the
complete layer below, so whichever run writes a key or date last has read everything written
before it; see docs/architecture.md.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from include.config import WAREHOUSE
from include.contracts import FEED_NAMES
from include.sql_render import render_sql, split_statements
from include.transform.window import Window

log = logging.getLogger(__name__)

LAYER_OBJECTS: dict[str, tuple[str, ...]] = {
    # one SILVER object per feed (silver/<feed>.sql), plus the customer records SCD2 is built from
    "silver": ("customer_versions", *FEED_NAMES),
    "model": (
        "dim_date",
        "dim_customer",
        "dim_product",
        "dim_store",
        "fct_orders",
        "fct_order_items",
        "fct_payments",
        "fct_store_sales",
        "fct_inventory_snapshot",
    ),
    "gold": ("daily_revenue", "monthly_revenue", "customer_rfm", "customer_features", "publication"),
}

CHECK_COLUMNS = ("check_name", "table_name", "business_date", "observed", "threshold", "passed", "severity", "detail")


@dataclass
class StepResult:
    """What one object's SQL did: rows affected per statement and the Snowflake query ids."""

    object: str
    rows_affected: list[int] = field(default_factory=list)
    query_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CheckResult:
    check_name: str
    table_name: str
    business_date: date
    observed: float | None
    threshold: float | None
    passed: bool
    severity: str
    detail: str

    @property
    def critical_failure(self) -> bool:
        return not self.passed and self.severity == "critical"

    def describe(self) -> str:
        return f"{self.check_name} on {self.table_name} for {self.business_date}: {self.detail}"


class DataQualityError(Exception):
    """Critical checks failed; the message lists them for whoever is on call."""

    def __init__(self, layer: str, window: Window, failures: list[CheckResult]) -> None:
        self.layer, self.window, self.failures = layer, window, failures
        lines = "\n".join(f"  - {f.describe()}" for f in failures)
        super().__init__(
            f"{len(failures)} critical {layer} check(s) failed for window {window} "
            f"(all results in {WAREHOUSE.audit}.DQ_RESULTS):\n{lines}"
        )


def _execute(cur: Any, obj: str, sql: str, params: dict[str, Any]) -> StepResult:
    result = StepResult(obj)
    for statement in split_statements(sql):
        if "%(" in statement:
            cur.execute(statement, params)
        else:
            cur.execute(statement)
        result.rows_affected.append(_rows_affected(cur))
        result.query_ids.append(cur.sfqid)
    return result


def _rows_affected(cur: Any) -> int:
    """Rows written by the last DML statement (MERGE reports inserted + updated)."""
    if cur.description and cur.description[0][0].lower().startswith("number of rows"):
        row = cur.fetchone() or ()
        return int(sum(int(v or 0) for v in row))
    return max(int(cur.rowcount or 0), 0)


def build_layer(hook: Any, layer: str, window: Window) -> list[StepResult]:
    """Run every object of a SILVER or MODEL layer for the window, one transaction per object."""
    results = []
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        for obj in LAYER_OBJECTS[layer]:
            sql = render_sql(f"{layer}/{obj}.sql", window=window)
            if len(split_statements(sql)) == 1:
                # one MERGE is atomic on its own (and the local stand-in cannot MERGE inside an
                # explicit transaction: its MERGE creates a temporary table)
                step = _execute(cur, obj, sql, {})
            else:
                cur.execute("begin")
                try:
                    step = _execute(cur, obj, sql, {})
                    cur.execute("commit")
                except Exception:
                    conn.rollback()
                    raise
            log.info("%s.%s for %s: rows affected %s", layer, obj, window, step.rows_affected)
            results.append(step)
    finally:
        conn.close()
    return results


def evaluate_checks(cur: Any, layer: str, window: Window) -> list[CheckResult]:
    cur.execute(render_sql(f"dq/{layer}.sql", window=window))
    results = []
    for row in cur.fetchall():
        values = dict(zip(CHECK_COLUMNS, row, strict=True))
        for key in ("observed", "threshold"):
            values[key] = None if values[key] is None else float(Decimal(str(values[key])))
        values["passed"] = bool(values["passed"])
        results.append(CheckResult(**values))
    return results


def record_checks(cur: Any, layer: str, window: Window, run_id: str, results: list[CheckResult]) -> None:
    """Replace this run's results for the layer in AUDIT.DQ_RESULTS (a retry does not add rows)."""
    table = f"{WAREHOUSE.database}.{WAREHOUSE.audit}.DQ_RESULTS"
    cur.execute("begin")
    try:
        cur.execute(
            f"delete from {table} where run_id = %(run_id)s and layer = %(layer)s",
            {"run_id": run_id, "layer": layer},
        )
        if results:
            cur.executemany(
                f"insert into {table} (run_id, layer, run_business_date, {', '.join(CHECK_COLUMNS)}) values "
                "(%(run_id)s, %(layer)s, %(run_business_date)s, %(check_name)s, %(table_name)s, %(business_date)s, "
                "%(observed)s, %(threshold)s, %(passed)s, %(severity)s, %(detail)s)",
                [
                    {
                        **asdict(r),
                        "business_date": r.business_date.isoformat(),
                        "run_id": run_id,
                        "layer": layer,
                        "run_business_date": window.end.isoformat(),
                    }
                    for r in results
                ],
            )
        cur.execute("commit")
    except Exception:
        cur.connection.rollback()
        raise


def summarise(results: list[CheckResult]) -> dict[str, Any]:
    return {
        "checks": len(results),
        "passed": sum(r.passed for r in results),
        "warnings": [r.describe() for r in results if not r.passed and r.severity == "warning"],
        "critical_failures": [r.describe() for r in results if r.critical_failure],
    }


def check_layer(hook: Any, layer: str, window: Window, run_id: str) -> dict[str, Any]:
    """Evaluate and record a layer's checks; raise DataQualityError when a critical one failed."""
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        results = evaluate_checks(cur, layer, window)
        record_checks(cur, layer, window, run_id, results)
    finally:
        conn.close()
    summary = summarise(results)
    for warning in summary["warnings"]:
        log.warning("DQ warning: %s", warning)
    failures = [r for r in results if r.critical_failure]
    if failures:
        raise DataQualityError(layer, window, failures)
    return summary


def publish_gold(hook: Any, window: Window, run_id: str) -> dict[str, Any]:
    """Rebuild GOLD for the window and check it in one transaction; commit only if it reconciles."""
    conn = hook.get_conn()
    steps: list[StepResult] = []
    try:
        cur = conn.cursor()
        cur.execute("begin")
        try:
            for obj in LAYER_OBJECTS["gold"]:
                steps.append(_execute(cur, obj, render_sql(f"gold/{obj}.sql", window=window), {"run_id": run_id}))
            results = evaluate_checks(cur, "gold", window)
            failures = [r for r in results if r.critical_failure]
            cur.execute("rollback" if failures else "commit")
        except Exception:
            conn.rollback()
            raise
        record_checks(cur, "gold", window, run_id, results)
    finally:
        conn.close()
    if failures:
        raise DataQualityError("gold", window, failures)
    summary = summarise(results)
    for warning in summary["warnings"]:
        log.warning("DQ warning: %s", warning)
    return {"window": str(window), "steps": [asdict(s) for s in steps], **summary}


def transform_window(hook: Any, window: Window, run_id: str) -> dict[str, Any]:
    """SILVER, its gate, MODEL, its gate, then GOLD with its checks in one transaction.

    A critical check failing raises DataQualityError: nothing after it runs, GOLD stays as published.
    """
    silver = build_layer(hook, "silver", window)
    silver_checks = check_layer(hook, "silver", window, run_id)
    model = build_layer(hook, "model", window)
    model_checks = check_layer(hook, "model", window, run_id)
    gold = publish_gold(hook, window, run_id)
    return {
        "window": str(window),
        "silver": {"steps": [asdict(s) for s in silver], **silver_checks},
        "model": {"steps": [asdict(s) for s in model], **model_checks},
        "gold": gold,
    }
