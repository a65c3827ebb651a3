"""The critical data-quality gates fail on the data they exist for (quick tier, in-process).

A gate that cannot fail is a defect the full tier would find only through slow DAG runs
(tests/integration/test_transforms.py). Here the daily run's SQL builds two days in-process
(``include.transform.layers.process_changes``), one bad row is planted where a gate must see it,
and the gate's own check file must return a failed critical result for it; on the clean
warehouse the same files return no failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from include.config import WAREHOUSE
from include.sql_render import render_sql, statements
from include.transform.layers import CheckResult
from include.transform.window import Window

DAYS = [date(2026, 4, 6), date(2026, 4, 7)]
SCALE, SEED = 0.05, 9
RUN_ID = "gates"


def _execute(hook: Any, sql: str, params: dict | None = None) -> list[tuple]:
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        rows: list[tuple] = []
        for statement in statements(sql):
            cur.execute(statement, params if "%(" in statement else None)
            rows = cur.fetchall() if cur.description else []
        return rows
    finally:
        conn.close()


def _failures(hook: Any, check: str) -> list[CheckResult]:
    """The critical failures the check file returns for the run of the last day."""
    window = Window(DAYS[-1], DAYS[-1])
    rows = _execute(hook, render_sql(f"dq/{check}.sql", window=window), {"run_id": RUN_ID})
    assert rows, f"{check} returned no rows"
    return [r for r in (CheckResult.from_row(tuple(row)) for row in rows) if r.critical_failure]


@pytest.fixture
def warehouse() -> Iterator[Any]:
    """Two days loaded and transformed as daily runs would, the last with its change set kept."""
    from include.transform import layers
    from local.history import build_model, in_process_warehouse, load_bronze

    with in_process_warehouse() as hook:
        load_bronze(hook, DAYS[0], DAYS[0], scale=SCALE, seed=SEED)
        build_model(hook, DAYS[0], DAYS[0], gold=True)
        load_bronze(hook, DAYS[1], DAYS[1], scale=SCALE, seed=SEED)
        window = Window(DAYS[1], DAYS[1])
        layers.run_file(hook, "audit/plan_change_set.sql", window, run_id=RUN_ID)
        for layer in ("silver", "model"):
            for obj in layers.LAYER_OBJECTS[layer]:
                layers.run_file(hook, f"{layer}/{obj}.sql", window, run_id=RUN_ID)
        yield hook


def test_clean_days_pass_every_critical_gate(warehouse) -> None:
    from include.transform import layers

    for layer in ("silver", "model"):
        for check in layers.CHECKS[layer]:
            if check != "row_accounting":  # it reads the file ledger, which in-process loads do not write
                assert _failures(warehouse, f"{layer}/{check}") == [], check
    layers.run_file(warehouse, "gold/build.sql", Window(DAYS[1], DAYS[1]), run_id=RUN_ID)
    assert _failures(warehouse, "gold/reconciliation") == []


def test_an_order_line_without_its_order_fails_the_orphans_gate(warehouse) -> None:
    silver = WAREHOUSE.qualified(WAREHOUSE.silver, "ORDER_ITEMS")
    _execute(
        warehouse,
        f"insert into {silver} (order_id, line_number, product_id, quantity, unit_price, discount_amount, "
        f"_source_file, _source_line, _batch_date) values ('O99999999999970', 1, 'P1', 1, 1.00, 0, 'f', 2, "
        f"'{DAYS[-1]}')",
    )
    (failure,) = [f for f in _failures(warehouse, "model/orphans") if f.check_name == "orphan_order_items"]
    assert failure.observed == 1 and "O99999999999970" in failure.detail


def test_gold_that_does_not_reconcile_with_silver_fails_the_reconciliation_gate(warehouse) -> None:
    from include.transform import layers

    layers.run_file(warehouse, "gold/build.sql", Window(DAYS[1], DAYS[1]), run_id=RUN_ID)
    stage = WAREHOUSE.qualified(WAREHOUSE.gold_stage, "DAILY_REVENUE")
    day = DAYS[1]
    _execute(warehouse, f"update {stage} set net_revenue = net_revenue + 1 where revenue_date = '{day}'")
    failures = _failures(warehouse, "gold/reconciliation")
    assert {(f.check_name, f.business_date) for f in failures} >= {("revenue_reconciles", day)}
