"""SILVER, MODEL and GOLD after real DAG runs on the local stack, checked against the raw files.

Four generated days (late rows, status updates, duplicates) are backfilled together, so their
runs overlap in whatever order the scheduler picks; the expected values are recomputed here from
the CSV files with pandas, independently of the warehouse SQL. Then, as an operator would from the
UI, GOLD's publication is cleared and re-run, and a GOLD build that does not reconcile (a fact row
planted in MODEL) is stopped by its check and re-done after the fix. Finally a fifth day delivers
order lines whose orders never arrive: the MODEL check must stop it before GOLD.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from include.config import LANDING, WAREHOUSE
from include.contracts import FEED_NAMES
from include.simulator.faults import ORPHAN_ORDER_IDS
from include.simulator.run import GenerateRequest, generate

pytestmark = [pytest.mark.integration, pytest.mark.second_stack]
RUN_TIMEOUT = 900
# far from the ingestion test's dates (yesterday), so the lookback windows do not overlap
FIRST = date(2026, 6, 1)
DAYS = 4
BROKEN = FIRST + timedelta(days=DAYS)
SCALE, SEED = 0.3, 23
TRACKED = ["email", "segment", "city", "state", "zip_code"]


def _request(start: date, days: int, out: str, inject: tuple[str, ...] = ()) -> GenerateRequest:
    return GenerateRequest(start=start, days=days, scale=SCALE, seed=SEED, out=out, inject=inject)


def _read(files: Path, feed: str, days: list[date]) -> pd.DataFrame:
    """A feed's raw files as strings, in delivery order (batch date, then line)."""
    frames = []
    for day in days:
        frame = pd.read_csv(files / f"{feed}_{day:%Y%m%d}.csv", dtype=str, keep_default_na=False)
        frame["_batch"], frame["_line"] = day, range(2, len(frame) + 2)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _latest(frame: pd.DataFrame, key: list[str], latest_by: list[str]) -> pd.DataFrame:
    ordered = frame.sort_values([*latest_by, "_batch", "_line"])
    return ordered.drop_duplicates(key, keep="last")


def _amount(frame: pd.DataFrame) -> pd.Series:
    return [
        Decimal(q) * Decimal(p) - Decimal(d)
        for q, p, d in zip(frame["quantity"], frame["unit_price"], frame["discount_amount"], strict=True)
    ]


def expected_revenue(files: Path, days: list[date]) -> dict[date, Decimal]:
    """Net revenue per day from the raw files: online lines by order date, store lines by sale date."""
    orders = _latest(_read(files, "orders", days), ["order_id"], ["status_updated_at"])
    items = _latest(_read(files, "order_items", days), ["order_id", "line_number"], [])
    items = items.merge(orders[["order_id", "order_ts"]], on="order_id", how="inner")
    sales = _latest(_read(files, "store_sales", days), ["transaction_id", "line_number"], [])
    lines = pd.DataFrame(
        {
            "day": [*items["order_ts"].str[:10], *sales["sold_at"].str[:10]],
            "amount": [*_amount(items), *_amount(sales)],
        }
    )
    return {date.fromisoformat(d): sum(g, Decimal(0)) for d, g in lines.groupby("day")["amount"]}


def expected_scd2(files: Path, days: list[date]) -> pd.DataFrame:
    """Customer versions: a new one whenever a tracked attribute changes, ordered by updated_at."""
    raw = _read(files, "customers", days)
    raw["email"], raw["state"] = raw["email"].str.strip().str.lower(), raw["state"].str.strip().str.upper()
    records = _latest(raw, ["customer_id", "updated_at"], []).sort_values(["customer_id", "updated_at"])
    tracked = records[TRACKED].agg("|".join, axis=1)
    starts = records[tracked != tracked.groupby(records["customer_id"]).shift()].copy()
    starts["valid_to"] = starts.groupby("customer_id")["updated_at"].shift(-1).fillna("9999-12-31 00:00:00")
    starts["is_current"] = starts["valid_to"] == "9999-12-31 00:00:00"
    return starts[["customer_id", "updated_at", "valid_to", "is_current", *TRACKED]]


def _query(sql: str) -> list[tuple]:
    from local import session

    return session.snowflake_hook().get_records(sql)


GOLD_OBJECTS = (
    "DAILY_REVENUE",
    "MONTHLY_REVENUE",
    "DAILY_KPI",
    "MONTHLY_KPI",
    "DATE_COMPLETENESS",
    "CUSTOMER_RFM",
    "CUSTOMER_FEATURES",
    "V_KPI_DAILY_REVENUE",
    "V_KPI_MONTHLY_REVENUE",
    "V_KPI_CUSTOMER_RFM",
    "V_LATEST_PUBLICATION",
    "V_LATEST_COMPLETE_DATE",
    "V_FRESHNESS",
    "PUBLICATIONS",
)


def _execute(sql: str) -> None:
    from local import session

    session.snowflake_hook().run(sql, autocommit=True)


def _table(schema: str, name: str) -> str:
    return WAREHOUSE.qualified(schema, name)


def _gold_daily() -> list[tuple]:
    return _query(
        f"select revenue_date, channel, category, state, orders, units, gross_amount, discount_amount, net_revenue "
        f"from {_table(WAREHOUSE.gold, 'DAILY_REVENUE')} order by 1, 2, 3, 4"
    )


def _ts(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def stack_alive() -> None:
    from local.stack import assert_running

    assert_running()


def _gold_snapshot() -> tuple:
    """Every published GOLD table (the publication log aside)."""
    tables = {
        "MONTHLY_REVENUE": "month_start, channel, category",
        "CUSTOMER_RFM": "customer_id",
        "CUSTOMER_FEATURES": "customer_id",
    }
    others = tuple(tuple(_query(f"select * from {_table(WAREHOUSE.gold, t)} order by {o}")) for t, o in tables.items())
    return (tuple(_gold_daily()), *others)


def _states(api: Any, run_id: str) -> dict[str, str]:
    return {t["task_id"]: t["state"] for t in api.task_instances("retail_daily", run_id)}


def _try(api: Any, run_id: str, task_id: str) -> int:
    (ti,) = [t for t in api.task_instances("retail_daily", run_id) if t["task_id"] == task_id]
    return int(ti["try_number"])


def operator_clears(api: Any, runs: dict[date, dict]) -> dict[str, Any]:
    """What an operator does after the runs: clear the publication, then fix a bad GOLD build."""
    (staged_run,) = _query(f"select run_id from {_table(WAREHOUSE.gold_stage, 'BUILD')}")[0]
    run_of = {r["dag_run_id"]: d for d, r in runs.items()}
    other = next(r["dag_run_id"] for r in runs.values() if r["dag_run_id"] != staged_run)
    out: dict[str, Any] = {"staged_run": staged_run, "gold_before": _gold_snapshot()}
    publications = f"select count(*) from {_table(WAREHOUSE.gold, 'PUBLICATIONS')}"
    out["publications_before"] = _query(publications)[0][0]
    lock_try = _try(api, staged_run, "acquire_transform_lock")

    # 1. clear the publication of the run whose build GOLD_STAGE holds: the same build, published again
    out["cleared"] = api.clear("retail_daily", staged_run, ["gold.publish"])
    out["republished"] = api.wait_for_run("retail_daily", staged_run, RUN_TIMEOUT, check=stack_alive)
    out["gold_after_republish"] = _gold_snapshot()
    out["publications_after"] = _query(publications)[0][0]
    out["lock_retaken"] = _try(api, staged_run, "acquire_transform_lock") > lock_try

    # 2. clear the publication of another run: GOLD_STAGE is not its build, so it refuses
    api.clear("retail_daily", other, ["gold.publish"])
    out["refused"] = api.wait_for_run("retail_daily", other, RUN_TIMEOUT, check=stack_alive)
    out["refused_states"] = _states(api, other)
    out["gold_after_refusal"] = _gold_snapshot()

    # 3. a fact row nobody delivered, noted as changed as a MODEL step notes what it rewrites: the
    #    rebuilt GOLD no longer reconciles with SILVER
    planted_day = run_of[staged_run] - timedelta(days=1)
    fct = _table(WAREHOUSE.model, "FCT_ORDER_ITEMS")
    _execute(
        f"insert into {fct} (order_id, line_number, product_id, customer_id, channel, order_date, shipping_state, "
        f"quantity, unit_price, discount_amount, net_amount) values ('O-PLANTED', 1, 'P-PLANTED', 'C-PLANTED', "
        f"'web', '{planted_day}', 'CA', 1, 1000, 0, 1000)"
    )
    _execute(
        f"insert into {_table(WAREHOUSE.model, 'PENDING_REVENUE_DATES')} (revenue_date, source) "
        f"values ('{planted_day}', 'test')"
    )
    try:
        api.clear("retail_daily", staged_run, ["gold.build"])
        out["bad_build"] = api.wait_for_run("retail_daily", staged_run, RUN_TIMEOUT, check=stack_alive)
        out["bad_build_states"] = _states(api, staged_run)
        out["gold_after_bad_build"] = _gold_snapshot()
        out["bad_build_results"] = _query(
            f"select check_name, business_date, passed, detail from {_table(WAREHOUSE.audit, 'DQ_RESULTS')} "
            f"where run_id = '{staged_run}' and task_id = 'gold.reconciliation' and not passed"
        )
    finally:
        _execute(f"delete from {fct} where order_id = 'O-PLANTED'")
    # 4. after the fix: clear the build with downstream; the noted date is still unpublished, so it
    #    is built, checked and published again
    api.clear("retail_daily", staged_run, ["gold.build"])
    out["fixed"] = api.wait_for_run("retail_daily", staged_run, RUN_TIMEOUT, check=stack_alive)
    out["gold_after_fix"] = _gold_snapshot()
    out["planted_day"] = planted_day
    return out


def _run_dates(api: Any, start: date, end: date) -> dict[date, dict]:
    from local import session

    backfill = session.backfill(api, start, end, max_active_runs=4)
    api.wait_for_backfill(backfill, RUN_TIMEOUT, check=stack_alive)
    runs = [r for r in api.runs("retail_daily") if start <= session.business_date_of(r) <= end]
    return {session.business_date_of(r): r for r in runs}


@pytest.fixture(scope="module")
def week(fresh_warehouse, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Four clean days backfilled together, then a broken fifth day."""
    api = fresh_warehouse
    files = tmp_path_factory.mktemp("feeds")
    dates = [FIRST + timedelta(days=i) for i in range(DAYS + 1)]
    fault = (f"orphan_lines@{BROKEN}",)
    for out in (f"s3://{LANDING.bucket}/{LANDING.inbox}", str(files)):
        generate(_request(FIRST, DAYS + 1, out, inject=fault), progress=False)
    api.wait_for_dag("retail_daily")
    runs = _run_dates(api, FIRST, dates[DAYS - 1])
    gold_before = _gold_daily()
    gold_objects = {name: set(_query(f"select * from {_table(WAREHOUSE.gold, name)}")) for name in GOLD_OBJECTS}
    clears = operator_clears(api, runs)
    gold_before_broken = _gold_daily()
    broken = _run_dates(api, BROKEN, BROKEN)[BROKEN]
    return {
        "api": api,
        "files": files,
        "dates": dates,
        "runs": runs,
        "broken": broken,
        "gold_before": gold_before,
        "clears": clears,
        "gold_before_broken": gold_before_broken,
        "gold_objects": gold_objects,
    }


def test_clean_days_publish(week) -> None:
    assert {d: r["state"] for d, r in week["runs"].items()} == {d: "success" for d in week["dates"][:DAYS]}


def test_silver_holds_one_row_per_order_in_its_latest_state(week) -> None:
    # SILVER takes every loaded day, the broken one too (its gate stops it before GOLD)
    files, dates = week["files"], week["dates"]
    raw = _read(files, "orders", dates)
    expected = _latest(raw, ["order_id"], ["status_updated_at"]).set_index("order_id")
    assert raw["order_id"].duplicated().sum() > len(expected) * 0.3, "the files carry status updates"
    ids = ", ".join(f"'{i}'" for i in expected.index)
    rows = _query(
        f"select order_id, order_status, status_updated_at, count(*) over (partition by order_id) "
        f"from {_table(WAREHOUSE.silver, 'ORDERS')} where order_id in ({ids})"
    )
    assert len(rows) == len(expected) and all(r[3] == 1 for r in rows)
    got = {r[0]: (r[1], _ts(r[2])) for r in rows}
    want = {i: (r["order_status"], r["status_updated_at"].replace("T", " ")) for i, r in expected.iterrows()}
    assert got == want


def test_scd2_history_follows_attribute_changes(week) -> None:
    files, dates = week["files"], week["dates"]
    expected = expected_scd2(files, dates)
    # customers also delivered on other test dates would have versions from those files too
    elsewhere = {
        r[0]
        for r in _query(
            f"select distinct customer_id from {_table(WAREHOUSE.bronze, 'CUSTOMERS')} "
            f"where _batch_date not between '{FIRST}' and '{BROKEN}'"
        )
    }
    expected = expected[~expected["customer_id"].isin(elsewhere)]
    changed = expected["customer_id"][expected["customer_id"].duplicated()].unique()
    assert len(changed) >= 1, "the generated days change some customer's tracked attributes"
    ids = ", ".join(f"'{c}'" for c in expected["customer_id"].unique())
    rows = _query(
        f"select customer_id, valid_from, valid_to, is_current, {', '.join(TRACKED)} "
        f"from {_table(WAREHOUSE.model, 'DIM_CUSTOMER')} where customer_id in ({ids})"
    )
    got = sorted((r[0], _ts(r[1]), _ts(r[2]), bool(r[3]), *r[4:]) for r in rows)
    want = sorted(tuple(r) for r in expected.itertuples(index=False))
    assert got == want
    assert sum(not r[3] for r in got) == len(expected) - expected["customer_id"].nunique() > 0


def test_gold_daily_revenue_equals_the_raw_files_to_the_cent(week) -> None:
    files, clean = week["files"], week["dates"][:DAYS]
    expected = expected_revenue(files, clean)
    gold: dict[date, Decimal] = {}
    for day, _, _, _, _, _, _, _, net in week["gold_before"]:
        gold[day] = gold.get(day, Decimal(0)) + Decimal(str(net))
    window = [clean[-1] - timedelta(days=i) for i in range(8)]
    assert FIRST - timedelta(days=1) in expected, "late rows of the day before the first file"
    for day in window:
        assert gold.get(day, Decimal(0)).quantize(Decimal("0.01")) == expected.get(day, Decimal(0)).quantize(
            Decimal("0.01")
        ), day
    assert all(gold[d] > 0 for d in clean)


def test_every_check_of_the_clean_runs_is_recorded_and_passed(week) -> None:
    run_ids = ", ".join(f"'{r['dag_run_id']}'" for r in week["runs"].values())
    rows = _query(
        f"select layer, check_name, passed, severity, business_date, detail "
        f"from {_table(WAREHOUSE.audit, 'DQ_RESULTS')} where run_id in ({run_ids})"
    )
    assert {r[0] for r in rows} == {"silver", "model", "gold"}
    assert [r for r in rows if r[3] == "critical" and not r[2]] == []
    accounting = _query(
        f"select table_name, business_date, detail from {_table(WAREHOUSE.audit, 'DQ_RESULTS')} "
        f"where run_id in ({run_ids}) and check_name = 'row_accounting'"
    )
    assert sorted((r[0], r[1]) for r in accounting) == sorted(
        (f"SILVER.{feed.upper()}", day) for feed in FEED_NAMES for day in week["dates"][:DAYS]
    )  # every feed of every run's own date
    assert all("0 keys missing in SILVER" in r[2] for r in accounting)
    assert sum(" 0 duplicates" not in r[2] for r in accounting) >= DAYS  # the files carry duplicates


@pytest.fixture(scope="module")
def reference(week) -> dict[str, Any]:
    """GOLD recomputed from the four clean days' raw files with pandas (tests/integration/gold_reference.py)."""
    from tests.integration import gold_reference as ref

    clean = week["dates"][:DAYS]
    facts = ref.build_facts(week["files"], clean)
    # what the runs published: every date with sales, and the completeness of each delivered date
    # and of the day before the first (its late rows)
    first, last = clean[0] - timedelta(days=1), clean[-1]
    months = {first.replace(day=1), last.replace(day=1)}
    delivered = {d: set(FEED_NAMES) for d in clean}
    return {
        "facts": facts,
        "DAILY_REVENUE": ref.daily_revenue(facts, first, last),
        "MONTHLY_REVENUE": ref.monthly_revenue(facts, months),
        "DAILY_KPI": ref.daily_kpi(facts, first, last),
        "MONTHLY_KPI": ref.monthly_kpi(facts, months),
        "DATE_COMPLETENESS": ref.date_completeness(delivered, first, last),
        "CUSTOMER_RFM": ref.customer_rfm(facts),
        "CUSTOMER_FEATURES": ref.customer_features(facts),
        "as_of": ref.as_of(facts),
    }


@pytest.mark.parametrize(
    "table",
    ["DAILY_REVENUE", "MONTHLY_REVENUE", "DAILY_KPI", "MONTHLY_KPI", "DATE_COMPLETENESS", "CUSTOMER_RFM",
     "CUSTOMER_FEATURES"],
)  # fmt: skip
def test_every_gold_table_equals_its_recomputation_from_the_raw_files(week, reference, table) -> None:
    got, want = week["gold_objects"][table], reference[table]
    assert got, f"GOLD.{table} is empty: the comparison would prove nothing"
    assert got - want == set() and want - got == set(), (
        f"GOLD.{table}: extra {sorted(got - want)[:3]}, missing {sorted(want - got)[:3]}"
    )


def test_the_scenario_exercises_what_the_definitions_are_about(reference) -> None:
    """Multi-category orders, ties in RFM, late rows, status updates and a date without deliveries."""
    lines = reference["facts"].lines
    categories = lines[lines["channel"] != "store"].groupby("basket")["category"].nunique()
    assert (categories > 1).sum() > 50, "orders with lines in several categories"
    rfm = reference["CUSTOMER_RFM"]
    assert len({(r[2], r[3], r[4]) for r in rfm}) < len(rfm), "customers with equal R, F and M"
    assert any(r[1] == "no_input" for r in reference["DATE_COMPLETENESS"])
    assert FIRST - timedelta(days=1) in {r[0] for r in reference["DAILY_REVENUE"]}, "late rows of the day before"


def test_the_kpi_views_count_each_order_once_at_every_grain(week, reference) -> None:
    got = week["gold_objects"]
    completeness = {r[0]: (r[1], r[4]) for r in reference["DATE_COMPLETENESS"]}
    want_daily = {(*k, *completeness[k[0]]) for k in reference["DAILY_KPI"]}
    assert got["V_KPI_DAILY_REVENUE"] == want_daily
    assert got["V_KPI_MONTHLY_REVENUE"] == reference["MONTHLY_KPI"]
    assert got["V_KPI_CUSTOMER_RFM"] == reference["CUSTOMER_RFM"]
    # the old bug: summing DAILY_REVENUE.orders over categories and states counts orders twice
    daily = got["DAILY_REVENUE"]
    naive = {day: sum(r[4] for r in daily if r[0] == day) for day in {r[0] for r in daily}}
    distinct = {r[0]: r[2] for r in got["DAILY_KPI"] if r[1] == "all"}
    assert all(distinct[day] <= naive[day] for day in naive)
    assert any(distinct[day] < naive[day] for day in naive), "multi-category orders make the naive sum larger"


def test_rfm_gives_equal_customers_equal_scores_and_no_one_purchase_champions(reference, week) -> None:
    rfm = week["gold_objects"]["CUSTOMER_RFM"]
    by_values: dict[tuple, set[tuple]] = {}
    for r in rfm:
        by_values.setdefault((r[2], r[3], r[4]), set()).add((r[5], r[6], r[7], r[8]))
    assert all(len(scores) == 1 for scores in by_values.values())
    assert not [r for r in rfm if r[3] == 1 and r[8] in ("champions", "loyal")]


def test_latest_views_follow_the_business_date(week, reference) -> None:
    got, clean = week["gold_objects"], week["dates"][:DAYS]
    (latest,) = got["V_LATEST_PUBLICATION"]
    assert latest[0] == clean[-1], "the newest business date, whichever run published last"
    complete = dict(got["V_LATEST_COMPLETE_DATE"])
    assert complete["DAILY_REVENUE"] == complete["DAILY_KPI"] == clean[-2], "the last date is provisional"
    assert complete["MONTHLY_REVENUE"] is None and complete["MONTHLY_KPI"] is None, "no month is complete"
    freshness = {r[0]: r for r in got["V_FRESHNESS"]}
    assert freshness["DAILY_REVENUE"][1] == clean[-1] and freshness["CUSTOMER_RFM"][1] == reference["as_of"]
    assert {r[4] for r in freshness.values()} == {"stale"}, "June 2026 data is months old on the test's clock"
    assert len(got["PUBLICATIONS"]) == DAYS


def test_clearing_the_publication_publishes_the_same_build_again(week) -> None:
    c = week["clears"]
    assert c["republished"]["state"] == "success"
    assert {"gold.publish", "acquire_transform_lock", "release_transform_lock"} <= set(c["cleared"])
    assert not any(t.startswith(("silver.", "model.", "gold.build")) for t in c["cleared"]), "only that part"
    assert c["lock_retaken"], "the cleared publication took the transform lock again"
    assert c["gold_after_republish"] == c["gold_before"], "a re-publication changes nothing"
    assert c["publications_after"] == c["publications_before"] + 1  # the log says it happened


def test_publishing_another_runs_build_is_refused(week) -> None:
    c = week["clears"]
    assert c["refused"]["state"] == "failed"
    assert c["refused_states"]["gold.publish"] == "failed"
    assert c["gold_after_refusal"] == c["gold_before"]


def test_a_gold_build_that_does_not_reconcile_is_never_published(week) -> None:
    c = week["clears"]
    states = c["bad_build_states"]
    assert c["bad_build"]["state"] == "failed"
    assert states["gold.reconciliation"] == "failed", states
    assert [t for t, s in states.items() if s == "failed"] == ["gold.reconciliation"], "only the check task is red"
    assert states["gold.publish"] == "upstream_failed" and states["release_transform_lock"] == "success"
    assert c["gold_after_bad_build"] == c["gold_before"], "nothing reached the published tables"
    ((check, day, passed, detail),) = c["bad_build_results"]
    assert (check, day, passed) == ("revenue_reconciles", c["planted_day"], False) and "SILVER" in detail
    # fixed and cleared: published again, exactly as before
    assert c["fixed"]["state"] == "success"
    assert c["gold_after_fix"] == c["gold_before"]


def test_orphan_lines_stop_the_run_before_gold(week) -> None:
    api, broken = week["api"], week["broken"]
    states = _states(api, broken["dag_run_id"])
    assert broken["state"] == "failed"
    assert [t for t, s in states.items() if s == "failed"] == ["model_checks.orphans"], "only the check is red"
    assert states["gold.build"] == states["gold.publish"] == "upstream_failed"
    (failed,) = _query(
        f"select observed, passed, detail from {_table(WAREHOUSE.audit, 'DQ_RESULTS')} "
        f"where run_id = '{broken['dag_run_id']}' and check_name = 'orphan_order_items'"
    )
    assert failed[0] == len(ORPHAN_ORDER_IDS) and not failed[1]
    assert any(o in failed[2] for o in ORPHAN_ORDER_IDS)


def test_the_failed_gate_alerts_on_call_once_with_the_failing_checks(week) -> None:
    from local import session

    subject = f"[retail_daily] FAILED model_checks.orphans for {BROKEN}"
    # other modules' alerts are in the same mailbox; this run adds exactly one
    mails = [m for m in session.mails() if "FAILED" in m["Subject"] and str(BROKEN) in m["Subject"]]
    assert [m["Subject"] for m in mails] == [f"{subject} (AirflowFailException)"]
    body = next(p for p in mails[0].walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert f"orphan_order_items on SILVER.ORDER_ITEMS for {BROKEN}: 3 rows" in body
    assert "docs/runbooks/transforms.md#model_checks-a-critical-model-check-failed" in body


def test_a_failed_gate_leaves_published_gold_unchanged(week) -> None:
    files, dates = week["files"], week["dates"]
    assert _gold_daily() == week["gold_before_broken"] == week["gold_before"]
    assert all(r[0] != BROKEN for r in week["gold_before"])
    # the broken day's files also carry late rows for the day before: publishing would have changed it
    with_broken = expected_revenue(files, dates)
    without = expected_revenue(files, dates[:DAYS])
    assert with_broken[dates[DAYS - 1]] != without[dates[DAYS - 1]]


# ---------------------------------------------------------------------------- a row 13 days late
LATE_DAY = BROKEN + timedelta(days=10)
LATE_ORDER = "O99999999999980"  # no simulated order has it


def _append_late_order(files: Path, placed: date) -> Decimal:
    """LATE_DAY's orders and order_items files also carry an order placed on ``placed``, with one
    line; returns that line's net amount."""
    import csv
    import io

    def rewrite(feed: str, change) -> list[str]:
        path = files / f"{feed}_{LATE_DAY:%Y%m%d}.csv"
        rows = list(csv.reader(io.StringIO(path.read_text())))
        header, first = rows[0], dict(zip(rows[0], rows[1], strict=True))
        added = change(first)
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([*rows, [added[c] for c in header]])
        path.write_text(out.getvalue())
        return added

    def order(row: dict) -> dict:
        stamp = f"{placed.isoformat()}{row['order_ts'][10:]}"
        return {**row, "order_id": LATE_ORDER, "order_status": "placed", "order_ts": stamp, "status_updated_at": stamp}

    rewrite("orders", order)
    line = rewrite("order_items", lambda row: {**row, "order_id": LATE_ORDER, "line_number": "1"})
    return Decimal(line["quantity"]) * Decimal(line["unit_price"]) - Decimal(line["discount_amount"])


@pytest.fixture(scope="module")
def late_row(week) -> dict[str, Any]:
    """Ten days after the broken day, a day's files also carry an order placed 13 days before it.
    Its run also takes the broken day's partitions, which no publication covered yet."""
    from local import session

    api, files = week["api"], week["files"]
    placed = FIRST + timedelta(days=1)
    generate(_request(LATE_DAY, 1, str(files)), progress=False)
    net = _append_late_order(files, placed)
    for feed in FEED_NAMES:
        name = f"{feed}_{LATE_DAY:%Y%m%d}.csv"
        session.s3_client().upload_file(str(files / name), LANDING.bucket, LANDING.inbox_key(name))
    before = _gold_daily()
    run = _run_dates(api, LATE_DAY, LATE_DAY)[LATE_DAY]
    return {
        "run": run,
        "placed": placed,
        "net": net,
        "before": before,
        "gold_objects": {name: set(_query(f"select * from {_table(WAREHOUSE.gold, name)}")) for name in GOLD_OBJECTS},
    }


def test_a_row_thirteen_days_late_reaches_the_day_it_belongs_to(week, late_row) -> None:
    assert late_row["run"]["state"] == "success"

    def net_of(rows: list[tuple], day: date) -> Decimal:
        return sum((Decimal(str(r[8])) for r in rows if r[0] == day), Decimal(0))

    placed = late_row["placed"]
    assert net_of(_gold_daily(), placed) - net_of(late_row["before"], placed) == late_row["net"]
    (status,) = _query(
        f"select order_status from {_table(WAREHOUSE.model, 'FCT_ORDERS')} where order_id = '{LATE_ORDER}'"
    )
    assert status == ("placed",)


@pytest.mark.parametrize(
    "table",
    ["DAILY_REVENUE", "MONTHLY_REVENUE", "DAILY_KPI", "MONTHLY_KPI", "CUSTOMER_RFM", "CUSTOMER_FEATURES"],
)
def test_after_the_late_row_every_gold_table_equals_its_recomputation(week, late_row, table) -> None:
    """Every file delivered so far (the broken day's too: its orphan lines stay out of the facts)."""
    from tests.integration import gold_reference as ref

    days = [*week["dates"], LATE_DAY]
    facts = ref.build_facts(week["files"], days)
    first, last = FIRST - timedelta(days=1), LATE_DAY
    want = {
        "DAILY_REVENUE": lambda: ref.daily_revenue(facts, first, last),
        "MONTHLY_REVENUE": lambda: ref.monthly_revenue(facts, {first.replace(day=1), last.replace(day=1)}),
        "DAILY_KPI": lambda: ref.daily_kpi(facts, first, last),
        "MONTHLY_KPI": lambda: ref.monthly_kpi(facts, {first.replace(day=1), last.replace(day=1)}),
        "CUSTOMER_RFM": lambda: ref.customer_rfm(facts),
        "CUSTOMER_FEATURES": lambda: ref.customer_features(facts),
    }[table]()
    got = late_row["gold_objects"][table]
    assert got - want == set() and want - got == set(), (
        f"GOLD.{table}: extra {sorted(got - want)[:3]}, missing {sorted(want - got)[:3]}"
    )


def test_after_the_late_row_completeness_covers_every_date_a_run_changed(week, late_row) -> None:
    from tests.integration import gold_reference as ref

    delivered = {d: set(FEED_NAMES) for d in [*week["dates"], LATE_DAY]}
    got = late_row["gold_objects"]["DATE_COMPLETENESS"]
    want = ref.date_completeness(delivered, FIRST - timedelta(days=1), LATE_DAY)
    covered = {FIRST - timedelta(days=1) + timedelta(days=i) for i in range(DAYS + 2)} | {
        LATE_DAY - timedelta(days=1),
        LATE_DAY,
    }
    assert {r[0] for r in got} == covered
    assert got == {r for r in want if r[0] in covered}
