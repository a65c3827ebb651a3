"""Fault injection: each fault turns one good delivered file into exactly one documented defect.

A fault is written ``name[:feed][@YYYY-MM-DD]``; without a feed it hits the fault's default feed,
without a date the first generated day. Every applied fault is recorded in the run record with
the file it touched and, for row faults, the 1-based line numbers it changed (line 1 is the
header), so tests and operators can check that nothing else changed.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from include.contracts import load_contract
from include.simulator.randomness import Stream, hash64

# name -> (default feed, what it does)
FAULTS: dict[str, tuple[str, str]] = {
    "bad_column_count": ("order_items", "one data row loses its last field"),
    "bad_date": ("orders", "one data row gets an unparseable timestamp"),
    "negative_price": ("order_items", "one data row gets a negative unit price"),
    "unknown_fk": ("order_items", "one data row references a product that does not exist"),
    "malformed_rows": ("store_sales", "bad_column_count, bad_date, negative_price and unknown_fk on four rows"),
    "missing_column": ("orders", "the last column is dropped from header and rows"),
    "extra_column": ("orders", "an undeclared column is appended to header and rows"),
    "reordered_columns": ("orders", "the first two columns swap places in header and rows"),
    "no_header": ("orders", "the header line is removed"),
    "empty_file": ("orders", "the file has zero bytes"),
    "header_only": ("orders", "the file has the header and no rows"),
    "duplicate_upload": ("orders", "the same file is uploaded a second time, byte-identical"),
    "wrong_date_name": ("orders", "the file is named for a date one year later than its content"),
    "unknown_feed": ("orders", "an extra file for an undeclared feed, returns_<date>.csv, is delivered"),
    "non_utf8": (
        "customers",
        "two data rows carry Latin-1 bytes that are not valid UTF-8; in the customers feed one of them is a "
        "customer who signed up and ordered that day (when the day has one): its orders are left orphaned",
    ),
    "hostile_name": ("orders", "a copy of the file is delivered under a name built to break SQL and paths"),
    "orphan_lines": ("order_items", "three data rows belong to an order that is never delivered"),
}
ROW_FAULTS = {
    "bad_column_count",
    "bad_date",
    "negative_price",
    "unknown_fk",
    "malformed_rows",
    "non_utf8",
    "orphan_lines",
}
# order ids no simulated order can have (the simulator's sequence numbers stay far below)
ORPHAN_ORDER_IDS = ("O99999999999991", "O99999999999992", "O99999999999993")
HOSTILE_SUFFIX = "'; DROP TABLE BRONZE.ORDERS; -- $(touch pwned) ..%2F"
_SPEC = re.compile(r"^(?P<name>[a-z_0-9]+)(?::(?P<feed>[a-z_]+))?(?:@(?P<date>\d{4}-\d{2}-\d{2}))?$")


@dataclass(frozen=True)
class FaultSpec:
    name: str
    feed: str
    day: date

    @classmethod
    def parse(cls, text: str, default_day: date) -> FaultSpec:
        m = _SPEC.match(text.strip())
        if not m or m["name"] not in FAULTS:
            raise ValueError(f"unknown fault {text!r}; known faults: {', '.join(sorted(FAULTS))}")
        feed = m["feed"] or FAULTS[m["name"]][0]
        load_contract().feed(feed)  # raises for an unknown feed
        return cls(m["name"], feed, date.fromisoformat(m["date"]) if m["date"] else default_day)


@dataclass
class Delivery:
    """One object to write: its file name and bytes, and how many times it is uploaded."""

    name: str
    body: bytes
    uploads: int = 1
    faults: list[dict[str, Any]] = field(default_factory=list)


def _rows(body: bytes) -> list[list[str]]:
    """Parse CSV bytes (one line or a whole file) into rows of fields."""
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


def _write(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return out.getvalue().encode("utf-8")


def _pick_lines(seed: int, spec: FaultSpec, n_data: int, k: int) -> list[int]:
    """k distinct data-row indices (0-based into data rows) chosen deterministically."""
    if n_data < k:
        raise ValueError(f"{spec.feed} file for {spec.day} has {n_data} rows; fault {spec.name} needs {k}")
    picks: list[int] = []
    salt = 0
    while len(picks) < k:
        i = int(hash64(seed, Stream.FAULT, spec.day.toordinal(), len(spec.name), salt)[0] % n_data)
        salt += 1
        if i not in picks:
            picks.append(i)
    return sorted(picks)


def _column_of(header: list[str], candidates: tuple[str, ...]) -> int:
    for name in candidates:
        if name in header:
            return header.index(name)
    raise ValueError(f"no column of {candidates} in this feed")


def _new_customers_who_ordered(lines: list[bytes], n_data: int, day: date, ordered_by: set[str]) -> list[int]:
    """Data-row indices of customers who signed up on ``day``, ordered that day and appear once in the file."""
    header = _rows(lines[0])[0]
    cid, signup = header.index("customer_id"), header.index("signup_date")
    rows = [_rows(lines[i + 1])[0] for i in range(n_data)]
    seen: dict[str, int] = {}
    for row in rows:
        seen[row[cid]] = seen.get(row[cid], 0) + 1
    return [
        i
        for i, row in enumerate(rows)
        if row[signup][:10] == day.isoformat() and row[cid] in ordered_by and seen[row[cid]] == 1
    ]


def apply(spec: FaultSpec, delivery: Delivery, seed: int, ordered_by: set[str] | None = None) -> list[Delivery]:
    """Apply ``spec`` to ``delivery`` in place; return any extra deliveries it creates.

    ``ordered_by``: the customer ids of the same day's orders file, so that ``non_utf8`` rejects a
    customer the warehouse has never seen and who ordered that day, whatever the calendar date.
    """
    name = spec.name
    record: dict[str, Any] = {"fault": name, "feed": spec.feed, "date": spec.day.isoformat(), "file": delivery.name}
    delivery.faults.append(record)
    extra: list[Delivery] = []
    if name in ROW_FAULTS:
        # only the chosen lines change; every other byte of the file stays as delivered
        lines = delivery.body.split(b"\n")
        header = _rows(lines[0])[0]
        n_data = len(lines) - 2 if lines[-1] == b"" else len(lines) - 1
        kinds = ["bad_column_count", "bad_date", "negative_price", "unknown_fk"] if name == "malformed_rows" else [name]
        if name == "non_utf8":
            kinds = ["non_utf8", "non_utf8"]
        if name == "orphan_lines":
            kinds = ["orphan_lines"] * len(ORPHAN_ORDER_IDS)
        orphan_ids = iter(ORPHAN_ORDER_IDS)
        picks = _pick_lines(seed, spec, n_data, len(kinds))
        if name == "non_utf8" and ordered_by and spec.feed == "customers":
            if candidates := _new_customers_who_ordered(lines, n_data, spec.day, ordered_by):
                first = candidates[int(hash64(seed, Stream.FAULT, spec.day.toordinal(), 97)[0] % len(candidates))]
                others = [i for i in _pick_lines(seed, spec, n_data, 3) if i != first]
                picks = sorted([first, others[0]])
        record["lines"] = [i + 2 for i in picks]
        record["defects"] = []
        for kind, i in zip(kinds, picks, strict=True):
            row = _rows(lines[i + 1])[0]
            encoding = "utf-8"
            if kind == "bad_column_count":
                row = row[:-1]
            elif kind == "bad_date":
                row[_column_of(header, ("order_ts", "sold_at", "paid_at", "updated_at", "snapshot_date"))] = (
                    "2026-02-30 25:61:00"
                )
            elif kind == "negative_price":
                row[_column_of(header, ("unit_price", "amount"))] = "-12.50"
            elif kind == "unknown_fk":
                row[_column_of(header, ("product_id", "customer_id", "store_id", "order_id"))] = "P999999"
            elif kind == "orphan_lines":
                row[_column_of(header, ("order_id",))] = next(orphan_ids)
            elif kind == "non_utf8":  # Latin-1 bytes: not valid UTF-8
                text_column = _column_of(header, ("city", "first_name", "store_name", "product_name", "channel"))
                row[text_column] = "S\u00e3o Paulo"
                encoding = "latin-1"
            lines[i + 1] = _write([row]).rstrip(b"\n").decode("utf-8").encode(encoding)
            record["defects"].append({"line": i + 2, "defect": kind})
        delivery.body = b"\n".join(lines)
    elif name in ("missing_column", "extra_column", "reordered_columns"):
        rows = _rows(delivery.body)
        if name == "missing_column":
            record["column"] = rows[0][-1]
            rows = [r[:-1] for r in rows]
        elif name == "extra_column":
            record["column"] = "promo_code"
            rows = [rows[0] + ["promo_code"]] + [r + [""] for r in rows[1:]]
        else:
            record["columns"] = rows[0][:2]
            rows = [[r[1], r[0], *r[2:]] for r in rows]
        delivery.body = _write(rows)
    elif name == "no_header":
        delivery.body = delivery.body.split(b"\n", 1)[1]
    elif name == "empty_file":
        delivery.body = b""
    elif name == "header_only":
        delivery.body = delivery.body.split(b"\n", 1)[0] + b"\n"
    elif name == "duplicate_upload":
        delivery.uploads = 2
    elif name == "wrong_date_name":
        wrong = spec.day + timedelta(days=365)
        delivery.name = f"{spec.feed}_{wrong:%Y%m%d}.csv"
        record["file"] = delivery.name
        record["content_date"] = spec.day.isoformat()
    elif name == "unknown_feed":
        extra.append(Delivery(f"returns_{spec.day:%Y%m%d}.csv", b"return_id,order_id\nR1,O1\n"))
        record["file"] = extra[0].name
    elif name == "hostile_name":
        extra.append(Delivery(f"{spec.feed}_{spec.day:%Y%m%d}{HOSTILE_SUFFIX}.csv", delivery.body))
        record["file"] = extra[0].name
    return extra
