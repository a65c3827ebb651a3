"""File-name parsing and contract validation of partner files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from include.ingest.validation import FileRejected, parse_file_name, validate_file
from include.simulator import faults as fault_lib
from include.simulator.run import GenerateRequest, generate

DAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("feeds")
    generate(GenerateRequest(start=DAY, days=1, scale=0.3, seed=3, out=str(out)), progress=False)
    return out


def _faulty(clean: Path, fault: str) -> tuple[bytes, str]:
    feed = fault_lib.FAULTS[fault][0]
    delivery = fault_lib.Delivery(f"{feed}_{DAY:%Y%m%d}.csv", (clean / f"{feed}_{DAY:%Y%m%d}.csv").read_bytes())
    fault_lib.apply(fault_lib.FaultSpec(fault, feed, DAY), delivery, seed=3)
    return delivery.body, feed


@pytest.mark.parametrize(
    ("name", "feed", "day"),
    [
        ("orders_20260302.csv", "orders", DAY),
        ("inventory_snapshots_20241231.csv", "inventory_snapshots", date(2024, 12, 31)),
    ],
)
def test_parse_valid_names(name: str, feed: str, day: date) -> None:
    parsed = parse_file_name(name)
    assert (parsed.feed, parsed.business_date) == (feed, day)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("returns_20260302.csv", "unknown feed 'returns'"),
        ("orders_20260230.csv", "not a calendar date"),
        ("orders_2026-03-02.csv", "does not match"),
        ("orders_20260302.csv.gz", "does not match"),
        ("ORDERS_20260302.csv", "does not match"),
        ("orders_20260302'; DROP TABLE BRONZE.ORDERS; --.csv", "does not match"),
        ("../orders_20260302.csv", "does not match"),
    ],
)
def test_parse_rejects_bad_names(name: str, reason: str) -> None:
    with pytest.raises(FileRejected, match=reason):
        parse_file_name(name)


def test_clean_file_loads_every_row_with_lineage(clean: Path) -> None:
    data = (clean / "orders_20260302.csv").read_bytes()
    result = validate_file(data, "orders_20260302.csv", "orders", DAY, 0.05)
    assert result.rejects == []
    assert result.rows_accepted == result.rows_in_file == data.count(b"\n") - 1
    lines = result.accepted_csv.decode().splitlines()
    assert lines[0].endswith("_source_file,_source_line,_batch_date,_extra")
    assert lines[1].endswith(",orders_20260302.csv,2,2026-03-02,")  # no column beyond the contract's


@pytest.mark.parametrize(
    ("fault", "reasons"),
    [
        ("bad_column_count", ["5 columns, expected 6"]),
        ("bad_date", ["order_ts='2026-02-30 25:61:00' is not a timestamp"]),
        ("negative_price", ["unit_price=-12.50 is below 0"]),
        ("non_utf8", ["invalid UTF-8", "invalid UTF-8"]),
        ("malformed_rows", ["8 columns, expected 9", "is not a timestamp", "unit_price=-12.50 is below 0"]),
    ],
)
def test_bad_rows_are_rejected_with_line_and_reason(clean: Path, fault: str, reasons: list[str]) -> None:
    data, feed = _faulty(clean, fault)
    name = f"{feed}_{DAY:%Y%m%d}.csv"
    result = validate_file(data, name, feed, DAY, 0.05)
    assert len(result.rejects) == len(reasons)
    for reject, reason in zip(result.rejects, reasons, strict=True):
        assert reason in reject.reason
    assert result.rows_accepted + result.rows_rejected == result.rows_in_file


def test_unknown_foreign_key_is_left_to_the_orphan_checks(clean: Path) -> None:
    data, feed = _faulty(clean, "unknown_fk")
    result = validate_file(data, f"{feed}_{DAY:%Y%m%d}.csv", feed, DAY, 0.05)
    assert result.rejects == []
    assert b"P999999" in result.accepted_csv


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("missing_column", "missing ['shipping_state']"),
        ("no_header", "no header row"),
        ("empty_file", "file is empty"),
        ("header_only", "0 data rows"),
    ],
)
def test_whole_file_problems_reject_the_file(clean: Path, fault: str, reason: str) -> None:
    data, feed = _faulty(clean, fault)
    with pytest.raises(FileRejected, match=reason.replace("[", r"\[").replace("]", r"\]")):
        validate_file(data, f"{feed}_{DAY:%Y%m%d}.csv", feed, DAY, 0.05)


def test_a_column_the_contract_lacks_loads_and_is_kept_aside(clean: Path) -> None:
    """A partner sending a new column before the contract has it: not quarantined; each row keeps
    the value in BRONZE._extra until a new contract version declares the column."""
    import csv
    import io
    import json

    data, feed = _faulty(clean, "extra_column")
    name = f"{feed}_{DAY:%Y%m%d}.csv"
    original = (clean / name).read_bytes()
    rows = list(csv.reader(io.StringIO(data.decode())))
    rows[1][-1] = 'SPRING "10", 5\\off'  # quotes, a comma and a backslash survive the round trip
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    result = validate_file(out.getvalue().encode(), name, feed, DAY, 0.05)
    expected = validate_file(original, name, feed, DAY, 0.05)
    assert result.rows_accepted == expected.rows_accepted and result.rejects == []
    staged = list(csv.DictReader(io.StringIO(result.accepted_csv.decode())))
    assert json.loads(staged[0]["_extra"]) == {"promo_code": 'SPRING "10", 5\\off'}
    assert json.loads(staged[1]["_extra"]) == {"promo_code": ""}
    assert [{k: v for k, v in r.items() if k != "_extra"} for r in staged] == [
        {k: v for k, v in r.items() if k != "_extra"}
        for r in csv.DictReader(io.StringIO(expected.accepted_csv.decode()))
    ]
    assert "kept in BRONZE._extra: ['promo_code']" in result.warnings[0]


def test_a_column_of_a_later_contract_version_may_be_absent(clean: Path, monkeypatch) -> None:
    import dataclasses

    import include.ingest.validation as validation

    contract = validation.load_contract()
    orders = contract.feed("orders")
    last = dataclasses.replace(orders.columns[-1], nullable=True, since=2)
    newer = dataclasses.replace(
        contract,
        version=2,
        feeds={**contract.feeds, "orders": dataclasses.replace(orders, columns=(*orders.columns[:-1], last))},
    )
    monkeypatch.setattr(validation, "load_contract", lambda: newer)
    data, feed = _faulty(clean, "missing_column")  # the partner still sends version 1
    result = validate_file(data, f"{feed}_{DAY:%Y%m%d}.csv", feed, DAY, 0.05)
    assert result.rejects == [] and result.rows_accepted == result.rows_in_file
    assert f"absent, loaded empty: {last.name} (version 2)" in result.warnings[0]
    # a column without `since` is still required
    monkeypatch.setattr(validation, "load_contract", lambda: contract)
    with pytest.raises(FileRejected, match=f"missing \\['{last.name}'\\]"):
        validate_file(data, f"{feed}_{DAY:%Y%m%d}.csv", feed, DAY, 0.05)


def test_reordered_columns_load_the_same_rows_with_a_warning(clean: Path) -> None:
    data, feed = _faulty(clean, "reordered_columns")
    name = f"{feed}_{DAY:%Y%m%d}.csv"
    result = validate_file(data, name, feed, DAY, 0.05)
    expected = validate_file((clean / name).read_bytes(), name, feed, DAY, 0.05)
    assert result.accepted_csv == expected.accepted_csv
    assert result.warnings and "different order" in result.warnings[0]


def test_a_file_named_for_the_wrong_date_is_rejected(clean: Path) -> None:
    data = (clean / "payments_20260302.csv").read_bytes()
    wrong = date(2027, 3, 2)
    with pytest.raises(FileRejected, match="rows are dated 2026-03-0[12]"):
        validate_file(data, "payments_20270302.csv", "payments", wrong, 0.05)


def test_too_many_bad_rows_reject_the_whole_file(clean: Path) -> None:
    lines = (clean / "order_items_20260302.csv").read_bytes().split(b"\n")
    broken = [lines[0]] + [ln.replace(b",", b";", 1) if i % 10 == 0 else ln for i, ln in enumerate(lines[1:])]
    with pytest.raises(FileRejected, match="rows rejected"):
        validate_file(b"\n".join(broken), "order_items_20260302.csv", "order_items", DAY, 0.05)
