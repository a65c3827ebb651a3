"""Hostile and malformed partner input: each case is accepted, rejected row by row, or the file
is quarantined, as docs/feeds.md says, and nothing unvalidated reaches a path or SQL.

The whole-file faults of the simulator (empty file, header only, missing, extra or reordered
columns, no header) are in test_validation.py; the stack-level handling of a quarantined file is
in tests/integration/test_ingestion.py.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from datetime import date
from pathlib import Path

import pytest

from include.ingest.pipeline import _safe_name
from include.ingest.validation import FileRejected, parse_file_name, validate_file

DAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from include.simulator.run import GenerateRequest, generate

    out = tmp_path_factory.mktemp("feeds")
    generate(GenerateRequest(start=DAY, days=1, scale=0.2, seed=5, out=str(out)), progress=False)
    return out


def _rows(clean: Path, feed: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO((clean / f"{feed}_{DAY:%Y%m%d}.csv").read_text())))


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def _validate(feed: str, data: bytes):
    return validate_file(data, f"{feed}_{DAY:%Y%m%d}.csv", feed, DAY, 0.05)


def _with(clean: Path, feed: str, column: str, value: str, row: int = 1) -> bytes:
    rows = _rows(clean, feed)
    rows[row][rows[0].index(column)] = value
    return _csv(rows)


def _accepted(result) -> list[list[str]]:
    return list(csv.reader(io.StringIO(result.accepted_csv.decode())))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("orders_20260230.csv", "not a calendar date"),
        ("orders_20261301.csv", "not a calendar date"),
        ("orders_99991231.csv", "in the future"),
        ("orders_20260302.csv\n", "does not match"),  # a trailing newline is not part of a name
        ("orders/20260302.csv", "does not match"),
        ("../history/orders_20260302.csv", "does not match"),
        ("..\\orders_20260302.csv", "does not match"),
        ("orders_20260302.csv;", "does not match"),
        ("orders_20260302'.csv", "does not match"),
        ('orders_20260302".csv', "does not match"),
        ("orders_20260302.csv; drop table BRONZE.ORDERS", "does not match"),
        ("\u043erders_20260302.csv", "does not match"),  # Cyrillic o
        ("orders_2026\uff10302.csv", "does not match"),  # a fullwidth digit
        ("orders_\u0662\u0660\u0662\u0666\u0660\u0663\u0660\u0662.csv", "does not match"),  # Arabic-Indic digits
        ("orders_20260302.csv\u200b", "does not match"),  # a zero-width space
        ("orders_20260302.CSV", "does not match"),
        ("orders_20260302.csv.gz", "does not match"),
    ],
)
def test_hostile_names_are_refused_and_quarantined_under_a_safe_name(name: str, reason: str) -> None:
    with pytest.raises(FileRejected, match=reason):
        parse_file_name(name, today=date(2026, 11, 23))
    assert re.fullmatch(r"[A-Za-z0-9._-]+\.[0-9a-f]{10}", _safe_name(name)), _safe_name(name)


def test_a_name_for_today_is_accepted_and_for_tomorrow_refused() -> None:
    today = date(2026, 11, 23)
    assert parse_file_name("orders_20261123.csv", today=today).business_date == today
    with pytest.raises(FileRejected, match="in the future"):
        parse_file_name("orders_20261124.csv", today=today)


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda b: b.replace(b"\n", b"\r\n"), id="CRLF line ends"),
        pytest.param(lambda b: b"\xef\xbb\xbf" + b, id="UTF-8 byte-order mark"),
        pytest.param(lambda b: b.rstrip(b"\n"), id="no final line end"),
    ],
)
def test_dialect_variants_load_exactly_the_rows_of_the_clean_file(clean: Path, transform) -> None:
    data = (clean / f"orders_{DAY:%Y%m%d}.csv").read_bytes()
    variant, original = _validate("orders", transform(data)), _validate("orders", data)
    assert variant.rejects == [] and variant.accepted_csv == original.accepted_csv


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b"", "file is empty", id="0 bytes"),
        pytest.param(b"\n\n\r\n", "file is empty", id="blank lines"),
        pytest.param(None, "not valid UTF-8", id="gzip named .csv"),
    ],
)
def test_files_that_are_not_csv_text_are_quarantined(clean: Path, data: bytes | None, reason: str) -> None:
    if data is None:
        data = gzip.compress((clean / f"orders_{DAY:%Y%m%d}.csv").read_bytes())
    with pytest.raises(FileRejected, match=reason):
        _validate("orders", data)


@pytest.mark.parametrize(
    ("feed", "column", "value", "reason"),
    [
        ("order_items", "quantity", "1e1", "quantity='1e1' is not an integer"),
        ("order_items", "unit_price", "1.5E2", "unit_price='1.5E2' is not a decimal"),
        ("order_items", "unit_price", "12,50", "columns, expected"),  # an unquoted decimal comma splits the row
        ("order_items", "quantity", "-3", "quantity=-3 is below 1"),
        ("order_items", "discount_amount", "-0.01", "discount_amount=-0.01 is below 0"),
        ("orders", "order_ts", "03/02/2026 10:00:00", "is not a timestamp YYYY-MM-DD HH:MM:SS"),
        ("orders", "order_ts", "2026-02-30 10:00:00", "is not a timestamp"),
        ("orders", "order_ts", "2031-03-02 10:00:00", "after the file's business date 2026-03-02"),
        ("customers", "signup_date", "2026-03-03", "after the file's business date"),
        ("customers", "signup_date", "2026/03/01", "is not a date YYYY-MM-DD"),
        ("orders", "channel", "web'; drop table x; --", "is not one of"),
    ],
)
def test_a_bad_value_rejects_its_row_and_the_rest_loads(clean: Path, feed: str, column: str, value: str, reason: str):
    rows = _rows(clean, feed)
    if "," in value:  # written unquoted, as a careless partner would
        data = _csv(rows).split(b"\n")
        fields = data[1].decode().split(",")
        fields[rows[0].index(column)] = value
        data[1] = ",".join(fields).encode()
        data = b"\n".join(data)
    else:
        data = _with(clean, feed, column, value)
    result = _validate(feed, data)
    assert [(r.line, reason in r.reason) for r in result.rejects] == [(2, True)], result.rejects
    assert result.rows_accepted == len(rows) - 2


def test_quoted_delimiters_quotes_and_sql_in_a_text_field_load_verbatim(clean: Path) -> None:
    hostile = 'O\'Brien, "Jr."; drop table BRONZE.CUSTOMERS; --'
    result = _validate("customers", _with(clean, "customers", "last_name", hostile))
    assert result.rejects == []
    accepted = _accepted(result)
    assert accepted[1][accepted[0].index("last_name")] == hostile


def test_a_line_break_inside_a_quoted_field_rejects_both_physical_lines(clean: Path) -> None:
    rows = _rows(clean, "customers")
    result = _validate("customers", _with(clean, "customers", "city", "Spring\nfield"))
    assert [r.line for r in result.rejects] == [2, 3]
    assert all("columns, expected" in r.reason for r in result.rejects)
    assert result.rows_accepted == len(rows) - 2


def test_the_same_key_twice_in_one_file_loads_both_rows_with_their_own_lines(clean: Path) -> None:
    """BRONZE keeps every delivered row with its line; SILVER keeps the latest (docs/feeds.md)."""
    rows = _rows(clean, "orders")
    result = _validate("orders", _csv([*rows, rows[1]]))
    accepted = _accepted(result)
    key, line = accepted[0].index("order_id"), accepted[0].index("_source_line")
    copies = [r for r in accepted[1:] if r[key] == rows[1][0]]
    assert result.rejects == [] and [r[line] for r in copies] == ["2", str(len(rows) + 1)]
