"""The objects of each transform layer, in build order, and the data-quality check results.

The daily DAG turns ``LAYER_OBJECTS`` into one task per object (SQL file
``include/sql/<layer>/<object>.sql``) and ``CHECKS`` into one check task per file
(``include/sql/dq/<layer>/<check>.sql``). The history loader (``local/history.py``) and the tests
run the same files through :func:`run_file`. Nothing here imports Airflow.

Every SQL file is atomic on its own: a single MERGE, or ``begin; delete ...; insert ...; commit;``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from include.sql_render import render_sql, statements
from include.transform import graph
from include.transform.window import Window

log = logging.getLogger(__name__)

# Each layer's steps in an order their SQL allows: a step runs after the steps whose tables it
# reads (include/transform/graph.py, from the ref() calls); the DAG's edges come from the same graph.
LAYER_OBJECTS: dict[str, tuple[str, ...]] = {layer: graph.ordered(layer) for layer in ("silver", "model")}

# Check files per layer: include/sql/dq/<layer>/<check>.sql, each returning CheckResult rows.
CHECKS: dict[str, tuple[str, ...]] = {
    "silver": ("row_accounting", "keys", "freshness"),
    "model": ("orphans", "scd2_integrity", "fact_keys"),
    "gold": ("reconciliation", "completeness"),
}

CHECK_COLUMNS = ("check_name", "table_name", "business_date", "observed", "threshold", "passed", "severity", "detail")


@dataclass(frozen=True)
class CheckResult:
    """One row of a check: what was checked, on which table and date, and whether it passed."""

    check_name: str
    table_name: str
    business_date: date
    observed: float | None
    threshold: float | None
    passed: bool
    severity: str  # critical | warning
    detail: str

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> CheckResult:
        values = dict(zip(CHECK_COLUMNS, row, strict=True))
        for key in ("observed", "threshold"):
            values[key] = None if values[key] is None else float(Decimal(str(values[key])))
        values["passed"] = bool(values["passed"])
        if isinstance(values["business_date"], str):
            values["business_date"] = date.fromisoformat(values["business_date"])
        return cls(**values)

    @property
    def critical_failure(self) -> bool:
        return not self.passed and self.severity == "critical"

    @property
    def warning(self) -> bool:
        return not self.passed and self.severity != "critical"

    def describe(self) -> str:
        return f"{self.check_name} on {self.table_name} for {self.business_date}: {self.detail}"


class DataQualityError(Exception):
    """Critical checks failed; the message lists each check, table and date for whoever is on call."""

    def __init__(self, check: str, window: Window, failures: list[CheckResult]) -> None:
        self.check, self.window, self.failures = check, window, failures
        lines = "\n".join(f"  - {f.describe()}" for f in failures)
        super().__init__(
            f"{len(failures)} critical check(s) of {check} failed in the run of {window.end} "
            f"(all results in AUDIT.DQ_RESULTS):\n{lines}"
        )


def run_file(hook: Any, path: str, window: Window, **params: Any) -> list[int]:
    """Run one rendered SQL file statement by statement on one connection; rows affected per statement.

    The files carry their own ``begin``/``commit``; a failure closes the connection, which rolls
    an open transaction back.
    """
    conn = hook.get_conn()
    rows: list[int] = []
    try:
        cur = conn.cursor()
        for statement in statements(render_sql(path, window=window, business_date=window.end)):
            cur.execute(statement, params or None)
            rows.append(rows_affected(cur))
    finally:
        conn.close()
    log.info("%s for %s: rows affected %s", path, window, rows)
    return rows


def process_changes(hook: Any, run_id: str, window: Window, *, gold: bool) -> None:
    """A daily run's transform steps outside Airflow, in order, without its checks (history
    loader, tests): take the change set, SILVER, MODEL, then GOLD built and published (``gold``)
    or, without GOLD, the change set marked processed and its revenue dates dropped."""
    params = {"run_id": run_id}
    process_changes_to_model(hook, run_id, window)
    if gold:
        run_file(hook, "gold/build.sql", window, **params)
        run_file(hook, "gold/publish.sql", window, **params)
    else:
        run_file(hook, "audit/processed_without_gold.sql", window, **params)


def process_changes_to_model(hook: Any, run_id: str, window: Window) -> None:
    """``process_changes`` up to MODEL: take the change set, then the SILVER and MODEL steps in order."""
    params = {"run_id": run_id}
    run_file(hook, "audit/plan_change_set.sql", window, **params)
    for layer in ("silver", "model"):
        for obj in LAYER_OBJECTS[layer]:
            run_file(hook, f"{layer}/{obj}.sql", window, **params)


def rows_affected(cur: Any) -> int:
    """Rows written by the last DML statement (Snowflake reports MERGE as inserted + updated)."""
    if cur.description and cur.description[0][0].lower().startswith("number of rows"):
        row = cur.fetchone() or ()
        return int(sum(int(v or 0) for v in row))
    return max(int(cur.rowcount or 0), 0)
