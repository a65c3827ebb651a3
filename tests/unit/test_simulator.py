"""The partner feed simulator: determinism, day independence, contract, shares, faults, S3."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
import yaml

from include.contracts import FEED_NAMES, load_contract
from include.ingest.validation import validate_file
from include.simulator import faults as fault_lib
from include.simulator.__main__ import main as cli
from include.simulator.generator import customer_ids
from include.simulator.reference import DEFAULT_REFERENCE, load_reference
from include.simulator.run import GenerateRequest, compare, generate, ground_truth, observable_churn_probability

DAY = date(2026, 3, 2)  # a Monday


def _generate(out: Path, start: date = DAY, days: int = 1, inject: tuple[str, ...] = (), **kw) -> dict:
    request = GenerateRequest(
        start=start, days=days, scale=kw.pop("scale", 0.5), seed=7, out=str(out), inject=inject, **kw
    )
    return generate(request, record_dir=out.parent / f"{out.name}_runs", progress=False)


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Nine clean days: enough for late rows and every status update of the first days."""
    out = tmp_path_factory.mktemp("week")
    return out, _generate(out, days=9, scale=1)


def _rows(out: Path, feed: str, day: date) -> list[dict[str, str]]:
    text = (out / f"{feed}_{day:%Y%m%d}.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    _generate(tmp_path / "a", days=2)
    _generate(tmp_path / "b", days=2)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert len(a) == 2 * len(FEED_NAMES)
    assert a == b


def test_a_day_does_not_depend_on_the_range_asked_for(tmp_path: Path) -> None:
    _generate(tmp_path / "alone", start=DAY)
    _generate(tmp_path / "range", start=DAY - timedelta(days=2), days=4)
    alone, ranged = _files(tmp_path / "alone"), _files(tmp_path / "range")
    for name, body in alone.items():
        assert ranged[name] == body, name


def test_a_different_seed_gives_different_data(tmp_path: Path) -> None:
    _generate(tmp_path / "a")
    request = GenerateRequest(start=DAY, days=1, scale=0.5, seed=8, out=str(tmp_path / "b"))
    generate(request, progress=False)
    assert _files(tmp_path / "a")["orders_20260302.csv"] != _files(tmp_path / "b")["orders_20260302.csv"]


def test_every_file_follows_the_contract(week: tuple[Path, dict]) -> None:
    out, record = week
    contract = load_contract()
    for day in (DAY, DAY + timedelta(days=4)):
        for feed in FEED_NAMES:
            name = f"{feed}_{day:%Y%m%d}.csv"
            data = (out / name).read_bytes()
            header = data.split(b"\n", 1)[0].decode().replace('"', "").split(",")
            assert header == contract.feed(feed).column_names
            result = validate_file(data, name, feed, day, max_reject_share=0.0)
            assert result.rejects == [], (name, result.rejects[:3])
            assert result.rows_accepted == record["rows_per_feed"][feed][day.isoformat()]


def test_scale_one_is_about_two_thousand_orders_a_day(week: tuple[Path, dict]) -> None:
    out, _ = week
    placed = [r for r in _rows(out, "orders", DAY + timedelta(days=2)) if r["order_status"] == "placed"]
    assert 1500 <= len(placed) <= 2600


def test_late_duplicate_and_status_update_shares_match_the_reference(week: tuple[Path, dict]) -> None:
    out, _ = week
    ref = load_reference()
    placed_on: dict[str, date] = {}
    late = total = 0
    updates: set[str] = set()
    for i in range(9):
        day = DAY + timedelta(days=i)
        for row in _rows(out, "orders", day):
            order_day = date(int(row["order_id"][1:5]), int(row["order_id"][5:7]), int(row["order_id"][7:9]))
            if row["order_status"] == "placed":
                placed_on[row["order_id"]] = order_day
                if i < 8 and order_day == day:
                    total += 1
                if order_day == day - timedelta(days=1):
                    late += 1
            else:
                updates.add(row["order_id"])
    # late: share of a day's placements that arrive in the next day's file
    assert late / total == pytest.approx(ref["delivery"]["late_share"], abs=0.01)
    # status updates: orders of the first two days, whose whole life cycle is inside the window
    early = [o for o, d in placed_on.items() if d <= DAY + timedelta(days=1)]
    share = sum(o in updates for o in early) / len(early)
    assert share == pytest.approx(ref["order_lifecycle"]["status_update_share"], abs=0.03)
    # exact duplicates: round(rows * share), at least one, per file
    for feed in FEED_NAMES:
        lines = (out / f"{feed}_{DAY:%Y%m%d}.csv").read_bytes().split(b"\n")[1:-1]
        copies = sum(n - 1 for n in Counter(lines).values())
        unique = len(lines) - copies
        assert copies == max(1, round(unique * ref["delivery"]["duplicate_share"])), feed


def test_repeat_customers_share(week: tuple[Path, dict]) -> None:
    out, _ = week
    day = DAY + timedelta(days=3)
    customers = {r["customer_id"]: r for r in _rows(out, "customers", day)}
    placed = [r for r in _rows(out, "orders", day) if r["order_status"] == "placed" and r["order_ts"][:10] == str(day)]
    repeat = sum(customers[r["customer_id"]]["signup_date"] < str(day) for r in placed) / len(placed)
    assert repeat == pytest.approx(load_reference()["repeat_customer_probability"], abs=0.06)


def test_customers_keep_their_attributes_across_days(week: tuple[Path, dict]) -> None:
    out, _ = week
    seen: dict[str, tuple] = {}
    changed = 0
    for i in range(9):
        for r in _rows(out, "customers", DAY + timedelta(days=i)):
            attrs = (r["first_name"], r["last_name"], r["email"], r["signup_date"])
            assert seen.setdefault(r["customer_id"], attrs) == attrs
    for i in range(9):
        for r in _rows(out, "customers", DAY + timedelta(days=i)):
            changed += r["updated_at"][:10] == str(DAY + timedelta(days=i)) and r["signup_date"] != r["updated_at"][:10]
    assert changed > 0, "some customers must change address or segment, or SCD2 has nothing to do"


# ------------------------------------------------------------------ faults
def _diff_lines(clean: bytes, faulty: bytes) -> list[int]:
    a, b = clean.split(b"\n"), faulty.split(b"\n")
    assert len(a) == len(b)
    return [i + 1 for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]


ROW_FAULT_FEEDS = {
    "bad_column_count": "order_items",
    "bad_date": "orders",
    "negative_price": "order_items",
    "unknown_fk": "order_items",
    "malformed_rows": "store_sales",
    "non_utf8": "customers",
    "orphan_lines": "order_items",
}


@pytest.fixture(scope="module")
def clean_day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("clean")
    _generate(out)
    return _files(out)


@pytest.mark.parametrize("fault", sorted(fault_lib.FAULTS))
def test_each_fault_makes_exactly_its_documented_defect(
    fault: str, clean_day: dict[str, bytes], tmp_path: Path
) -> None:
    record = _generate(tmp_path / "out", inject=(fault,))
    files = _files(tmp_path / "out")
    (applied,) = record["faults"]
    feed = fault_lib.FAULTS[fault][0]
    target = f"{feed}_{DAY:%Y%m%d}.csv"
    untouched = {n: b for n, b in clean_day.items() if n != target}
    for name, body in untouched.items():  # nothing else changed
        assert files[name] == body, name
    if fault in ROW_FAULT_FEEDS:
        assert _diff_lines(clean_day[target], files[target]) == applied["lines"]
        header = files[target].split(b"\n", 1)[0]
        assert header == clean_day[target].split(b"\n", 1)[0]
        bad = files[target].split(b"\n")[applied["lines"][0] - 1]
        if fault == "non_utf8":
            with pytest.raises(UnicodeDecodeError):
                bad.decode("utf-8")
        elif fault == "bad_column_count":
            assert bad.count(b",") == header.count(b",") - 1
        elif fault == "negative_price":
            assert b",-12.50," in bad
        elif fault == "unknown_fk":
            assert b"P999999" in bad
        elif fault == "orphan_lines":
            assert len(applied["lines"]) == 3
            assert bad.startswith(b"O9999999999999")
        elif fault == "malformed_rows":
            assert [d["defect"] for d in applied["defects"]] == [
                "bad_column_count",
                "bad_date",
                "negative_price",
                "unknown_fk",
            ]
    elif fault in ("missing_column", "extra_column", "reordered_columns"):
        clean_rows = list(csv.reader(io.StringIO(clean_day[target].decode())))
        rows = list(csv.reader(io.StringIO(files[target].decode())))
        assert len(rows) == len(clean_rows)
        if fault == "missing_column":
            assert rows == [r[:-1] for r in clean_rows]
        elif fault == "extra_column":
            assert [r[:-1] for r in rows] == clean_rows and rows[0][-1] == "promo_code"
        else:
            assert [[r[1], r[0], *r[2:]] for r in rows] == clean_rows
    elif fault == "no_header":
        assert files[target] == clean_day[target].split(b"\n", 1)[1]
    elif fault == "empty_file":
        assert files[target] == b""
    elif fault == "header_only":
        assert files[target] == clean_day[target].split(b"\n", 1)[0] + b"\n"
    elif fault == "duplicate_upload":
        assert files[target] == clean_day[target]
        assert [f["uploads"] for f in record["files"] if f["name"] == target] == [2]
    elif fault == "wrong_date_name":
        wrong = f"{feed}_{DAY + timedelta(days=365):%Y%m%d}.csv"
        assert target not in files and files[wrong] == clean_day[target]
    elif fault == "unknown_feed":
        assert files[target] == clean_day[target]
        assert set(files) - set(clean_day) == {f"returns_{DAY:%Y%m%d}.csv"}
    elif fault == "hostile_name":
        (extra,) = set(files) - set(clean_day)
        assert extra.startswith(f"{feed}_{DAY:%Y%m%d}'") and "DROP TABLE" in extra
        assert files[extra] == clean_day[target]
    else:  # pragma: no cover - a new fault needs its own assertion
        pytest.fail(f"no assertion for fault {fault}")


@pytest.mark.parametrize("day", [DAY + timedelta(days=n) for n in (0, 3, 11, 260)])
def test_non_utf8_rejects_a_new_customer_who_ordered_that_day_on_any_date(day: date, tmp_path: Path) -> None:
    """The demo promises that this fault stops the run (orphan orders): that must not depend on the calendar."""
    _generate(tmp_path / "clean", start=day)
    record = _generate(tmp_path / "out", start=day, inject=(f"non_utf8@{day}",))
    (applied,) = record["faults"]
    clean = _rows(tmp_path / "clean", "customers", day)
    ordered = {r["customer_id"] for r in _rows(tmp_path / "clean", "orders", day)}
    ids = [r["customer_id"] for r in clean]
    rejected = [clean[line - 2] for line in applied["lines"]]  # line 1 is the header
    orphaning = [
        r
        for r in rejected
        if r["signup_date"].startswith(day.isoformat())
        and r["customer_id"] in ordered
        and ids.count(r["customer_id"]) == 1
    ]
    assert len(rejected) == 2 and orphaning, rejected
    bad = (tmp_path / "out" / f"customers_{day:%Y%m%d}.csv").read_bytes().split(b"\n")
    assert [n for n, line in enumerate(bad, 1) if not _is_utf8(line)] == applied["lines"]


def test_non_utf8_on_another_feed_hits_two_rows_of_that_feed(tmp_path: Path) -> None:
    record = _generate(tmp_path / "out", inject=(f"non_utf8:orders@{DAY}",))
    (applied,) = record["faults"]
    bad = (tmp_path / "out" / f"orders_{DAY:%Y%m%d}.csv").read_bytes().split(b"\n")
    assert applied["file"] == f"orders_{DAY:%Y%m%d}.csv"
    assert [n for n, line in enumerate(bad, 1) if not _is_utf8(line)] == applied["lines"]
    assert len(applied["lines"]) == 2


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_fault_spec_targets_feed_and_date(tmp_path: Path) -> None:
    record = _generate(tmp_path / "out", days=2, inject=(f"negative_price:store_sales@{DAY + timedelta(days=1)}",))
    (applied,) = record["faults"]
    assert applied["file"] == f"store_sales_{DAY + timedelta(days=1):%Y%m%d}.csv"


def test_unknown_fault_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli(["generate", "--start", str(DAY), "--out", str(tmp_path), "--inject", "gremlins"])
    assert code == 2
    assert "unknown fault 'gremlins'" in capsys.readouterr().err


# ------------------------------------------------------------------ run records
def test_run_record_and_compare_show_what_changed(tmp_path: Path) -> None:
    ref = yaml.safe_load(DEFAULT_REFERENCE.read_text())
    ref["delivery"]["late_share"] = 0.2
    changed = tmp_path / "reference.yaml"
    changed.write_text(yaml.safe_dump(ref))
    a = _generate(tmp_path / "a")
    b = _generate(tmp_path / "b", reference_path=str(changed))
    for record in (a, b):
        assert set(record) >= {"run_id", "parameters", "reference", "rows_per_feed", "faults", "duration_s"}
        assert set(record["rows_total"]) == set(FEED_NAMES)
    diff = compare(a, b)
    assert not diff["same_reference"]
    assert diff["reference"] == {"delivery.late_share": (0.03, 0.2)}
    assert diff["rows"]["orders"]["a"] == a["rows_total"]["orders"]
    saved = json.loads((tmp_path / "a_runs" / f"{a['run_id']}.json").read_text())
    assert saved["reference"]["checksum"] == a["reference"]["checksum"]


def test_compare_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _generate(tmp_path / "a")
    b = _generate(tmp_path / "b", days=2)
    assert cli(["compare", a["run_id"], b["run_id"], "--record-dir", str(tmp_path / "a_runs")]) == 2
    runs = tmp_path / "a_runs"
    assert cli(["compare", str(runs / f"{a['run_id']}.json"), str(tmp_path / "b_runs" / f"{b['run_id']}.json")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["parameters"]["days"] == [1, 2]
    assert out["same_reference"] is True


def test_ground_truth_is_informative() -> None:
    from sklearn.metrics import roc_auc_score

    truth = ground_truth(date(2025, 9, 30), seed=7, scale=0.2)
    prob, label = truth["true_churn_probability"], truth["churned"]
    assert ((prob >= 0) & (prob <= 1)).all()
    assert 0.2 < label.mean() < 0.95
    assert roc_auc_score(label, prob) > 0.7


def test_observable_churn_probability_is_the_posterior_given_the_order_history() -> None:
    """The attainable ceiling: calibrated, below the truth, above the order count, and equal to an
    independent Monte Carlo posterior for single customers."""
    from sklearn.metrics import roc_auc_score

    from include.ml.metrics import expected_calibration_error
    from include.simulator.generator import FeedSimulator

    cutoff, seed, scale = date(2024, 6, 30), 7, 0.1
    seen = observable_churn_probability(cutoff, seed, scale)
    truth = ground_truth(cutoff, seed, scale)
    assert list(seen["customer_id"]) == list(truth["customer_id"])
    label, p = truth["churned"], seen["observable_churn_probability"]
    assert ((p >= 0) & (p <= 1)).all()
    assert expected_calibration_error(label, p) < 0.02  # Bayes under the generating model is calibrated
    assert roc_auc_score(label, truth["true_churn_probability"]) > roc_auc_score(label, p) + 0.02
    assert roc_auc_score(label, p) > roc_auc_score(label, -seen["ordered_days"]) + 0.05

    # one cohort's customers, recomputed by weighting 50,000 prior draws of the hidden rates
    sim = FeedSimulator(load_reference(), seed, scale)
    c = sim.day_index(cutoff)
    signup = c - 100
    cohort = sim.cohort(signup)
    rng = np.random.default_rng(0)
    z_rate, z_life = rng.standard_normal(50_000), rng.standard_normal(50_000)
    days = np.arange(signup + 1, c + 91)
    orders = np.array([sim.orders_placed_by_existing(int(d), cohort) for d in days[: c - signup]]).T
    index = {cid: i for i, cid in enumerate(seen["customer_id"])}
    checked = 0
    for k in (
        np.flatnonzero(orders.sum(axis=1) >= 1)[:4].tolist() + np.flatnonzero(orders.sum(axis=1) == 0)[:2].tolist()
    ):
        seg = cohort.segment[k]
        base = sim.rate_scale * sim.seg_freq[seg] * np.exp(0.5 * z_rate)
        decay = sim.log_decay_unit / (sim.seg_life[seg] * np.exp(0.5 * z_life))
        prob = np.minimum(base[:, None] * np.exp((days - signup) * decay[:, None]) * sim.weekday_factor(days), 0.9)
        past, future = prob[:, : c - signup], prob[:, c - signup :]
        weight = np.exp(np.where(orders[k], np.log(past), np.log1p(-past)).sum(axis=1))
        expected = float((weight * np.exp(np.log1p(-future).sum(axis=1))).sum() / weight.sum())
        got = p[index[str(customer_ids(np.array([cohort.first_gid + k]))[0])]]
        assert got == pytest.approx(expected, abs=0.01), (k, orders[k].sum())
        checked += 1
    assert checked == 6
