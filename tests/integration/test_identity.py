"""Five business dates processed in order, or as one backfill newest first three at a time, end in
the same warehouse; re-running a date after a corrected file changes only what it implies.

Why five dates suffice: every date's files carry rows of the date before (late order lines,
payments and status changes) and customers seen on earlier dates, so each change set overlaps its
predecessor's. Newest first, three at a time, dates 5, 4 and 3 load together and take the
transform lock in whatever order the scheduler gives them, and every date is transformed before
the date its late rows belong to: four overlapping pairs processed in both orders, and a
concurrent start. A longer range repeats those pairs (ten dates took 21 runs, 9 minutes).

Re-running the whole completed range is in ``python -m benchmarks.identity`` (it would add five
more runs here); tests/integration/test_ingestion.py re-runs dates and compares every row.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest

from include.config import LANDING, WAREHOUSE
from include.simulator.run import GenerateRequest, generate
from local import identity

# eleven DAG runs, five of them one after the other: longer than the suite's default per test
pytestmark = [pytest.mark.integration, pytest.mark.second_stack, pytest.mark.timeout(3600)]
FIRST = date(2026, 9, 1)  # far from the other modules' dates and lookback windows
DAYS = 5
TIMEOUT = 2400
CORRECTED = FIRST + timedelta(days=3)


def _alive() -> None:
    from local.stack import assert_running

    assert_running()


def _daily_revenue(hook) -> dict[date, Decimal]:
    rows = hook.get_records(
        f"select revenue_date, sum(net_revenue) from {WAREHOUSE.qualified(WAREHOUSE.gold, 'DAILY_REVENUE')} "
        f"where revenue_date between '{FIRST - timedelta(days=1)}' and '{FIRST + timedelta(days=DAYS)}' group by 1"
    )
    # The stand-in may hand a NUMBER(14,2) sum back as a float: compare cents.
    return {d: Decimal(str(v)).quantize(Decimal("0.01")) for d, v in rows}


def _correct_one_line(day: date) -> tuple[str, Decimal]:
    """Re-deliver ``day``'s order_items file with one line's quantity raised by one.

    Returns the order id and the revenue the correction adds (one more unit at its unit price).
    """
    from local import session

    def lines(d: date) -> list[list[str]]:
        name = f"order_items_{d:%Y%m%d}.csv"
        return list(csv.reader(io.StringIO(session.read_object(LANDING.history_key("order_items", d, name)).decode())))

    rows = lines(day)
    header = rows[0]
    key = [header.index("order_id"), header.index("line_number")]
    seen: dict[tuple[str, ...], int] = {}
    for d in (FIRST + timedelta(days=i) for i in range(DAYS)):
        for row in lines(d)[1:]:
            seen[tuple(row[k] for k in key)] = seen.get(tuple(row[k] for k in key), 0) + 1
    # a line delivered exactly once in the whole range: no duplicate or later copy overrides the correction
    n = next(i for i, row in enumerate(rows) if i and seen[tuple(row[k] for k in key)] == 1)
    line = rows[n]
    line[header.index("quantity")] = str(int(line[header.index("quantity")]) + 1)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    name = f"order_items_{day:%Y%m%d}.csv"
    session.s3_client().put_object(Bucket=LANDING.bucket, Key=LANDING.inbox_key(name), Body=out.getvalue().encode())
    return line[header.index("order_id")], Decimal(line[header.index("unit_price")])


@pytest.fixture(scope="module")
def passes(stack):
    from local import session

    api, hook = stack, session.snowflake_hook()
    generate(
        GenerateRequest(start=FIRST, days=DAYS, scale=0.05, seed=17, out=f"s3://{LANDING.bucket}/{LANDING.inbox}"),
        progress=False,
    )
    api.wait_for_dag(session.DAILY_DAG)
    run = dict(api=api, hook=hook, first=FIRST, days=DAYS, timeout=TIMEOUT, check=_alive)
    in_order = identity.run_pass(**run, name="in order", max_active_runs=1, backwards=False, fresh=True)
    # the overlap the proof relies on: orders whose current row came with a later date's files
    carried = dict(
        hook.get_records(
            f"select _batch_date, count(*) from {WAREHOUSE.qualified(WAREHOUSE.silver, 'ORDERS')} "
            "where cast(order_ts as date) < _batch_date group by 1"
        )
    )
    newest_first = identity.run_pass(**run, name="newest first", max_active_runs=3, backwards=True, fresh=True)

    revenue_before = _daily_revenue(hook)
    order_id, delta = _correct_one_line(CORRECTED)
    corrected = identity.run_pass(
        api=api, hook=hook, first=CORRECTED, days=1, timeout=TIMEOUT, check=_alive,
        name="corrected", max_active_runs=1, backwards=False, fresh=False,
    )  # fmt: skip
    (order_date,) = hook.get_first(
        f"select order_date from {WAREHOUSE.qualified(WAREHOUSE.model, 'FCT_ORDERS')} where order_id = %(o)s",
        parameters={"o": order_id},
    )
    return {
        "passes": (in_order, newest_first, corrected),
        "carried": carried,
        "revenue": (revenue_before, _daily_revenue(hook)),
        "correction": (order_date, delta),
    }


def test_every_run_of_both_orders_succeeds(passes) -> None:
    for p in passes["passes"][:2]:
        assert p.states == {FIRST + timedelta(days=i): "success" for i in range(DAYS)}, p.name


def test_each_dates_files_carry_rows_of_earlier_dates(passes) -> None:
    """Without this overlap, the two orders could not differ and the proof would be empty."""
    carried = {d: n for d, n in passes["carried"].items() if n}
    assert set(carried) >= {FIRST + timedelta(days=i) for i in range(1, DAYS)}, carried


def test_in_order_and_newest_first_in_parallel_end_in_the_same_tables(passes) -> None:
    in_order, newest_first, _ = passes["passes"]
    differences = identity.differences(in_order.hashes, newest_first.hashes)
    assert differences == {}, {t: identity.differing_rows(a, b) for t, (a, b) in differences.items() if a and b}
    filled = {t for t, h in in_order.hashes.items() if h.rows}
    for table in ("SILVER.ORDERS", "MODEL.DIM_CUSTOMER", "MODEL.FCT_ORDER_ITEMS", "GOLD.DAILY_REVENUE"):
        assert table in filled, f"{table} is empty: the comparison would prove nothing"
    assert len(in_order.hashes) >= 25


def test_a_corrected_file_changes_only_what_the_correction_implies(passes) -> None:
    _, newest_first, corrected = passes["passes"]
    assert corrected.states == {CORRECTED: "success"}
    changed = set(identity.differences(newest_first.hashes, corrected.hashes))
    implied = {
        "SILVER.ORDER_ITEMS",
        "MODEL.FCT_ORDER_ITEMS",
        "MODEL.FCT_ORDERS",
        "MODEL.CUSTOMER_ACTIVITY_DAILY",  # the order's customer spent one unit more
        "MODEL.CUSTOMER_ACTIVITY",
        "GOLD.DAILY_REVENUE",
        "GOLD.MONTHLY_REVENUE",
        "GOLD.DAILY_KPI",
        "GOLD.MONTHLY_KPI",
        "GOLD.CUSTOMER_RFM",  # the views, and the customer's rows behind them
        "GOLD.CUSTOMER_FEATURES",
        "GOLD.CUSTOMER_RFM_BASE",
        "GOLD.CUSTOMER_FEATURES_BASE",
    }
    assert {"SILVER.ORDER_ITEMS", "MODEL.FCT_ORDER_ITEMS", "GOLD.DAILY_REVENUE"} <= changed <= implied
    before, after = passes["revenue"]
    order_date, delta = passes["correction"]
    assert {
        d: after.get(d, 0) - before.get(d, 0) for d in set(before) | set(after) if after.get(d) != before.get(d)
    } == {order_date: delta}


def test_the_corrected_file_is_in_history_and_the_delivery_it_replaced_is_kept_beside_it(passes) -> None:
    from local import session

    name = f"order_items_{CORRECTED:%Y%m%d}.csv"
    current = LANDING.history_key("order_items", CORRECTED, name)
    keys = session.list_keys(current)
    superseded = [k for k in keys if k.startswith(f"{current}.superseded-")]
    assert current in keys and len(superseded) == 1, keys
    old, new = session.read_object(superseded[0]), session.read_object(current)
    assert old != new and len(old.splitlines()) == len(new.splitlines())
