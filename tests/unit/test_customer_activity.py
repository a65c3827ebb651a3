"""MODEL's customer activity aggregates follow the facts exactly, whatever changed (issue 32).

GOLD's RFM and churn features are derived from MODEL.CUSTOMER_ACTIVITY(_DAILY), which the fact
steps keep up to date with signed deltas instead of GOLD re-reading every fact each day. Here the
daily run's SQL runs in-process day by day (``include.transform.layers.process_changes``) and the
published features are compared with the facts-based definition the churn model trains on
(``gold/_customer_features.sql``), after plain days, after a corrected partition that moves an
order to another customer and date, and after a full rebuild that must repair damaged aggregates.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from include.config import WAREHOUSE
from include.sql_render import render_sql, statements
from include.transform import layers
from include.transform.window import Window

START, DAYS, SCALE, SEED = date(2026, 3, 1), 4, 0.05, 3
DAY_LIST = [START + timedelta(days=i) for i in range(DAYS)]
M = f"{WAREHOUSE.database}.{WAREHOUSE.model}"


def _rows(hook: Any, sql: str, params: dict | None = None) -> list[tuple]:
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        cur.execute(sql, params)
        return cur.fetchall()
    finally:
        conn.close()


def _run(hook: Any, sql: str) -> None:
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        for statement in statements(sql):
            cur.execute(statement)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def warehouse() -> Iterator[Any]:
    from local.history import build_model, in_process_warehouse, load_bronze

    with in_process_warehouse() as hook:
        for day in DAY_LIST:  # as daily runs: each day's partitions, then its change set
            load_bronze(hook, day, day, scale=SCALE, seed=SEED)
            build_model(hook, day, day, gold=True)
        yield hook


def _publish(hook: Any, run_id: str, window: Window) -> None:
    """GOLD built and published for a run taken up to MODEL (``layers.process_changes_to_model``)."""
    for path in ("gold/build.sql", "gold/publish.sql"):
        layers.run_file(hook, path, window, run_id=run_id)


def _exact(rows: list[tuple]) -> set[tuple]:
    """Rows with every float as the decimal it prints as: an ad-hoc query's ratios come back as
    floats, a table's as decimals."""
    return {tuple(Decimal(str(v)) if isinstance(v, float) else v for v in row) for row in rows}


def _from_facts_sql() -> str:
    from include.sql_render import _ENV

    template = _ENV.from_string(
        "{% from 'gold/_customer_features.sql' import customer_features %}"
        "{% from 'gold/_purchases.sql' import data_as_of %}"
        "with f as ({{ customer_features(data_as_of()) }}) select * from f"
    )
    return template.render()


def _aggregates(hook: Any) -> tuple[set[tuple], set[tuple]]:
    return (
        set(_rows(hook, f"select * from {M}.CUSTOMER_ACTIVITY_DAILY")),
        set(_rows(hook, f"select * from {M}.CUSTOMER_ACTIVITY")),
    )


def test_features_from_the_aggregates_equal_the_facts_definition(warehouse) -> None:
    published = set(_rows(warehouse, f"select * from {WAREHOUSE.qualified(WAREHOUSE.gold, 'CUSTOMER_FEATURES')}"))
    from_facts = _exact(_rows(warehouse, _from_facts_sql()))
    assert len(published) > 100 and published == from_facts
    assert not _rows(warehouse, f"select * from {M}.PENDING_CUSTOMER_ACTIVITY"), "every delta applied"


def test_a_corrected_partition_that_moves_an_order_keeps_them_equal(warehouse) -> None:
    """The second day's orders file is re-delivered with one order under another customer and
    placed two days earlier (same status time, so the corrected record wins; its lines and
    payments follow it): the old customer and date lose it, the new ones gain it."""
    day = DAY_LIST[1]
    orders = WAREHOUSE.qualified(WAREHOUSE.bronze, "ORDERS")
    # an order with a payment, delivered on that day only (no later status row overrides the fix)
    (order_id, customer_id) = _rows(
        warehouse,
        f"select o.order_id, min(o.customer_id) from {orders} as o "
        f"inner join {WAREHOUSE.qualified(WAREHOUSE.bronze, 'PAYMENTS')} as p on p.order_id = o.order_id "
        f"group by o.order_id having min(o._batch_date) = '{day}' and max(o._batch_date) = '{day}' "
        "order by o.order_id limit 1",
    )[0]
    (other,) = _rows(
        warehouse, f"select min(customer_id) from {orders} where customer_id <> %(c)s", {"c": customer_id}
    )[0]
    before = set(
        _rows(
            warehouse,
            f"select customer_id from {M}.CUSTOMER_ACTIVITY where customer_id in ('{customer_id}', '{other}')",
        )
    )
    moved = (day - timedelta(days=2)).isoformat()
    _run(
        warehouse,
        f"update {orders} set customer_id = '{other}', "
        f"order_ts = '{moved}' || substr(order_ts, 11) "
        f"where order_id = '{order_id}' and _batch_date = '{day}'",
    )
    _run(warehouse, render_sql("bronze/register_history_partitions.sql", feeds=["orders"], days=[day]))
    layers.process_changes(warehouse, "correction", Window(DAY_LIST[-1], DAY_LIST[-1]), gold=True)

    (fact,) = _rows(warehouse, f"select customer_id, order_date from {M}.FCT_ORDERS where order_id = '{order_id}'")
    assert fact == (other, date.fromisoformat(moved))
    assert len(before) == 2  # the customers were there to lose and gain
    published = set(_rows(warehouse, f"select * from {WAREHOUSE.qualified(WAREHOUSE.gold, 'CUSTOMER_FEATURES')}"))
    assert published == _exact(_rows(warehouse, _from_facts_sql()))


def test_a_full_rebuild_recomputes_damaged_aggregates_from_the_facts(warehouse) -> None:
    good = _aggregates(warehouse)
    _run(warehouse, f"update {M}.CUSTOMER_ACTIVITY_DAILY set spend = spend + 1 where activity_date = '{DAY_LIST[0]}'")
    _run(
        warehouse,
        f"delete from {M}.CUSTOMER_ACTIVITY where customer_id in (select min(customer_id) from {M}.CUSTOMER_ACTIVITY)",
    )
    assert _aggregates(warehouse) != good
    # the runbook's full rebuild: every partition of the range again (lookback_days)
    window = Window(DAY_LIST[0] - timedelta(days=1), DAY_LIST[-1])
    layers.process_changes(warehouse, "full rebuild", window, gold=True)
    assert _aggregates(warehouse) == good


def test_daily_scoring_reads_the_published_features_and_gets_the_facts_rows(warehouse, caplog) -> None:
    """Scoring the date GOLD is as of reads GOLD.CUSTOMER_FEATURES (its cost does not grow with
    the history); an older date (a backfill) computes from the facts; both give the same frame."""
    import logging

    import pandas as pd

    from include.ml.features import _frame, scoring_features
    from include.sql_render import render_sql

    (as_of,) = _rows(warehouse, f"select as_of_date from {WAREHOUSE.qualified(WAREHOUSE.gold, 'CUSTOMER_AS_OF')}")[0]
    with caplog.at_level(logging.INFO, logger="include.ml.features"):
        daily = scoring_features(warehouse, as_of)
        older = scoring_features(warehouse, as_of - timedelta(days=1))
    assert [m for m in caplog.messages if "scoring features" in m] == [
        f"scoring features as of {as_of} from GOLD: {len(daily)} customers",
        f"scoring features as of {as_of - timedelta(days=1)} from the facts: {len(older)} customers",
    ]
    conn = warehouse.get_conn()
    try:
        cur = conn.cursor()
        cur.execute(render_sql("ml/scoring_features.sql", as_of=as_of, active_days=180, from_gold=False))
        from_facts = _frame(cur).sort_values("customer_id", ignore_index=True)
    finally:
        conn.close()
    assert len(daily) > 100
    pd.testing.assert_frame_equal(daily, from_facts, check_dtype=False)


def test_a_status_update_and_customers_sent_again_write_only_what_changed(warehouse) -> None:
    """A day's orders and customers files again, with one order now cancelled: the other orders'
    rows and every customer record are as before. No order line differs and no SCD2 row does, so
    neither step writes one or notes a revenue date or a customer for GOLD; the cancellation
    changes its customer's activity, and only that customer is noted (issue 46)."""
    day = DAY_LIST[2]
    orders = WAREHOUSE.qualified(WAREHOUSE.bronze, "ORDERS")
    (order_id, customer_id) = _rows(
        warehouse,
        f"select order_id, min(customer_id) from {orders} group by order_id "
        f"having min(_batch_date) = '{day}' and max(_batch_date) = '{day}' "
        "and max(order_status) not in ('cancelled', 'returned') order by order_id limit 1",
    )[0]
    dim_before = set(_rows(warehouse, f"select * from {M}.DIM_CUSTOMER"))
    _run(
        warehouse,
        f"update {orders} set order_status = 'cancelled', status_updated_at = '{DAY_LIST[-1]} 23:59:59' "
        f"where order_id = '{order_id}' and _batch_date = '{day}'",
    )
    _run(warehouse, render_sql("bronze/register_history_partitions.sql", feeds=["orders", "customers"], days=[day]))
    window = Window(DAY_LIST[-1], DAY_LIST[-1])
    layers.process_changes_to_model(warehouse, "status update", window)

    assert _rows(warehouse, f"select count(*) from {M}.ORDER_LINE_CHANGES") == [(0,)]
    assert _rows(warehouse, f"select * from {M}.PENDING_REVENUE_DATES") == []
    assert _rows(warehouse, f"select count(*) from {M}.CUSTOMER_VERSION_CHANGES") == [(0,)]
    assert set(_rows(warehouse, f"select * from {M}.DIM_CUSTOMER")) == dim_before
    assert _rows(warehouse, f"select distinct customer_id from {M}.PENDING_CUSTOMERS") == [(customer_id,)]

    _publish(warehouse, "status update", window)
    (status,) = _rows(warehouse, f"select order_status from {M}.FCT_ORDERS where order_id = '{order_id}'")[0]
    assert status == "cancelled"
    published = set(_rows(warehouse, f"select * from {WAREHOUSE.qualified(WAREHOUSE.gold, 'CUSTOMER_FEATURES')}"))
    assert published == _exact(_rows(warehouse, _from_facts_sql()))


def test_a_fact_line_silver_no_longer_gives_is_removed_and_its_date_rebuilt(warehouse) -> None:
    """FCT_ORDER_ITEMS is what SILVER's lines and orders derive: a line the fact has and SILVER
    does not give (a damaged fact) goes when its order is touched, and its date is rebuilt."""
    day = DAY_LIST[3]
    orders = WAREHOUSE.qualified(WAREHOUSE.bronze, "ORDERS")
    (order_id,) = _rows(
        warehouse,
        f"select min(i.order_id) from {M}.FCT_ORDER_ITEMS as i inner join {orders} as o on o.order_id = i.order_id "
        f"where o._batch_date = '{day}'",
    )[0]
    _run(
        warehouse,
        f"insert into {M}.FCT_ORDER_ITEMS select order_id, 99, product_id, customer_id, channel, order_date, "
        f"shipping_state, quantity, unit_price, discount_amount, net_amount from {M}.FCT_ORDER_ITEMS "
        f"where order_id = '{order_id}' and line_number = 1",
    )
    (order_date,) = _rows(warehouse, f"select order_date from {M}.FCT_ORDER_ITEMS where order_id = '{order_id}'")[0]
    _run(warehouse, render_sql("bronze/register_history_partitions.sql", feeds=["orders"], days=[day]))
    window = Window(DAY_LIST[-1], DAY_LIST[-1])
    layers.process_changes_to_model(warehouse, "damaged fact", window)

    assert _rows(warehouse, f"select order_id, line_number, removed from {M}.ORDER_LINE_CHANGES") == [
        (order_id, 99, True)
    ]
    assert _rows(warehouse, f"select revenue_date from {M}.PENDING_REVENUE_DATES") == [(order_date,)]
    assert _rows(warehouse, f"select count(*) from {M}.FCT_ORDER_ITEMS where line_number = 99") == [(0,)]
    _publish(warehouse, "damaged fact", window)
