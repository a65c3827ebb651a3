"""File-name parsing and contract validation of partner files. Pure functions, no I/O.

A file either fails as a whole (``FileRejected``: it is quarantined and nothing of it loads) or
is split into accepted rows (written out in contract column order with lineage columns, ready for
COPY INTO BRONZE) and rejected rows (file, line, reason, raw text).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from include.contracts import Column, Feed, load_contract

# the staged file's columns after the contract's: lineage, then the file's columns the contract
# does not have (a JSON object, empty when none), which BRONZE keeps in _extra
LINEAGE_COLUMNS = ("_source_file", "_source_line", "_batch_date", "_extra")
_INT = re.compile(r"^-?[0-9]+$")
_DEC = re.compile(r"^-?[0-9]+(\.[0-9]{1,2})?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TS = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}$")
# A file whose event dates mostly fall outside [business date - 1, business date] is for
# another day: its name is wrong.
CONTENT_DATE_MIN_SHARE = 0.5


class FileRejected(Exception):
    """The file as a whole breaks the contract; ``reason`` says how, for the quarantine note."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FileName:
    feed: str
    business_date: date
    name: str


def parse_file_name(name: str, today: date | None = None) -> FileName:
    """Feed and business date from a strict ``<feed>_<YYYYMMDD>.csv`` name, or FileRejected.

    The whole name must match (a trailing newline or path part is not a name), and the date must
    exist and not lie after ``today`` (UTC): no partner can deliver a day that has not begun.
    """
    contract = load_contract()
    m = contract.name_pattern.fullmatch(name)
    if not m:
        raise FileRejected(f"file name {name!r} does not match <feed>_<YYYYMMDD>.csv")
    if m["feed"] not in contract.feeds:
        raise FileRejected(f"unknown feed {m['feed']!r} in {name!r}; known feeds: {', '.join(contract.feeds)}")
    try:
        day = datetime.strptime(m["date"], "%Y%m%d").date()
    except ValueError:
        raise FileRejected(f"{m['date']!r} in {name!r} is not a calendar date") from None
    if day > (today or datetime.now(UTC).date()):
        raise FileRejected(f"business date {day} in {name!r} is in the future")
    return FileName(m["feed"], day, name)


def expected_file_name(feed: str, day: date) -> str:
    load_contract().feed(feed)
    return f"{feed}_{day:%Y%m%d}.csv"


@dataclass(frozen=True)
class Reject:
    line: int
    reason: str
    raw: str


@dataclass
class ValidationResult:
    feed: str
    file_name: str
    business_date: date
    rows_in_file: int = 0
    accepted_csv: bytes = b""
    rows_accepted: int = 0
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return len(self.rejects)

    def rejects_csv(self) -> bytes:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["feed", "batch_date", "source_file", "line_number", "reason", "raw_line"])
        for r in self.rejects:
            w.writerow([self.feed, self.business_date.isoformat(), self.file_name, r.line, r.reason, r.raw])
        return out.getvalue().encode("utf-8")


def _checker(col: Column) -> Callable[[str], str | None] | None:
    """The column's rule as a function: why a value breaks it, or None when it is fine.

    None instead of a function when no value can break the rule (a nullable text column without
    allowed values or a pattern). Built once per file, not once per value.
    """
    name, t, nullable, minimum = col.name, col.type, col.nullable, col.min
    allowed = frozenset(col.values) if col.values is not None else None
    pattern = re.compile(col.pattern) if col.pattern is not None else None
    if t == "string" and nullable and allowed is None and pattern is None:
        return None
    number = {"integer": _INT, "decimal": _DEC}.get(t)
    moment = {
        "date": (_DATE, date.fromisoformat, "a date YYYY-MM-DD"),
        "timestamp": (_TS, datetime.fromisoformat, "a timestamp YYYY-MM-DD HH:MM:SS"),
    }.get(t)
    article = "an" if t[0] in "aeiou" else "a"

    def check(value: str) -> str | None:
        if value == "":
            return None if nullable else f"{name} is empty"
        if number is not None:
            if not number.match(value):
                return f"{name}={value!r} is not {article} {t}"
            if minimum is not None and float(value) < minimum:
                return f"{name}={value} is below {minimum:g}"
        elif moment is not None:
            shape, parse, what = moment
            try:
                if not shape.match(value):
                    raise ValueError
                parse(value)
            except ValueError:
                return f"{name}={value!r} is not {what}"
        elif t == "boolean":
            if value not in ("true", "false"):
                return f"{name}={value!r} is not true/false"
        if allowed is not None and value not in allowed:
            return f"{name}={value!r} is not one of {', '.join(col.values or ())}"
        if pattern is not None and not pattern.match(value):
            return f"{name}={value!r} does not match {col.pattern}"
        return None

    return check


class _OneLine:
    """The input of a csv reader that is handed one physical line at a time: a quoted field left
    open at the end of a line ends there, exactly as if each line had a reader of its own."""

    def __init__(self) -> None:
        self.line: str | None = None

    def __iter__(self) -> _OneLine:
        return self

    def __next__(self) -> str:
        line, self.line = self.line, None
        if line is None:
            raise StopIteration
        return line


def validate_file(
    data: bytes, name: str, feed_name: str, business_date: date, max_reject_share: float
) -> ValidationResult:
    """Check a whole file against the contract of ``feed_name``.

    Raises FileRejected for whole-file problems; otherwise returns accepted and rejected rows.
    """
    contract = load_contract()
    feed: Feed = contract.feed(feed_name)
    dialect = contract.dialect
    result = ValidationResult(feed_name, name, business_date)
    if not data.strip():
        raise FileRejected("file is empty (0 bytes or only blank lines)")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    try:
        first = lines[0].decode(dialect.encoding).removeprefix("\ufeff")  # a byte-order mark is not a column
        header = next(csv.reader([first.rstrip("\r")], delimiter=dialect.delimiter, quotechar=dialect.quote))
    except UnicodeDecodeError:
        raise FileRejected(f"header line is not valid {dialect.encoding.upper()}") from None
    expected = feed.column_names
    extra: list[str] = []
    if header != expected:
        missing = [c for c in expected if c not in header]
        extra = [c for c in header if c not in expected]
        if not set(header) & set(expected):
            raise FileRejected(f"no header row: first line {lines[0][:120]!r} holds none of the columns {expected}")
        if len(set(header)) != len(header):
            repeated = sorted({c for c in header if header.count(c) > 1})
            raise FileRejected(f"header names columns twice: {repeated}")
        # a column added in a later contract version (`since`) may be absent: a partner still
        # sending the version before; it loads empty
        if required := [c for c in missing if feed.column(c).since is None]:
            raise FileRejected(f"header does not match the contract: missing {required}, unexpected {extra}")
        if missing:
            added = ", ".join(f"{c} (version {feed.column(c).since})" for c in missing)
            result.warnings.append(f"columns of a later contract version absent, loaded empty: {added}")
        if extra:
            # a partner sending a column before the contract has it: kept, not quarantined
            result.warnings.append(
                f"columns not in the contract kept in BRONZE._extra: {extra}; declare them in a new contract "
                "version to load them into SILVER"
            )
        if [c for c in header if c in expected] != [c for c in expected if c in header]:
            result.warnings.append(f"columns arrived in a different order: {header}")
    order = [header.index(c) if c in header else None for c in expected]
    extra_at = [(header.index(c), c) for c in extra]

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*expected, *LINEAGE_COLUMNS])
    day = business_date.isoformat()
    event_idx = expected.index(feed.event_time) if feed.event_time else None
    # a file for day D describes D and before: a date or timestamp after D cannot be true
    dated = [(i, c.name) for i, c in enumerate(feed.columns) if c.type in ("date", "timestamp")]
    event_days: Counter[str] = Counter()
    checks = [(i, c) for i, c in enumerate(_checker(col) for col in feed.columns) if c is not None]
    source = _OneLine()
    reader = csv.reader(source, delimiter=dialect.delimiter, quotechar=dialect.quote)
    width = len(header)
    in_order = order == list(range(width))

    def extras_of(fields: list[str]) -> str:
        return json.dumps({c: fields[i] for i, c in extra_at}, ensure_ascii=False, separators=(",", ":"))

    def check_rows(
        rows: list[list[str]], numbers: list[int], texts: list[str], extras: list[str], rejects: list[Reject]
    ) -> None:
        """Check a batch of parsed rows column by column, each distinct value once. Accepted rows
        are written out; rejected ones join ``rejects`` (the lines of the batch refused before
        they could be parsed) and are kept in line order."""
        problems: dict[int, list[str]] = {}
        for i, check in checks:
            column = [row[i] for row in rows]
            verdicts = {v: p for v in set(column) if (p := check(v)) is not None}
            if verdicts:
                for k, v in enumerate(column):
                    if v in verdicts:
                        problems.setdefault(k, []).append(verdicts[v])
        for i, col in dated:
            for k, row in enumerate(rows):
                if row[i][:10] > day:
                    problems.setdefault(k, []).append(f"{col}={row[i]} is after the file's business date {day}")
        rejects.extend(Reject(numbers[k], "; ".join(p), texts[k]) for k, p in problems.items())
        result.rejects.extend(sorted(rejects, key=lambda r: r.line))
        accepted = [row for k, row in enumerate(rows) if k not in problems]
        if event_idx is not None:
            event_days.update(row[event_idx][:10] for row in accepted)
        writer.writerows([*row, name, numbers[k], day, extras[k]] for k, row in enumerate(rows) if k not in problems)
        result.rows_accepted += len(accepted)

    # batches of rows: the checks run over columns, and a large file is not held twice in memory
    rows: list[list[str]] = []
    numbers: list[int] = []
    texts: list[str] = []
    extras: list[str] = []
    refused: list[Reject] = []
    for number, raw in enumerate(lines[1:], start=2):
        result.rows_in_file += 1
        try:
            text = raw.decode(dialect.encoding).rstrip("\r")
        except UnicodeDecodeError as exc:
            reason = f"invalid {dialect.encoding.upper()} at byte {exc.start}"
            refused.append(Reject(number, reason, raw.decode(dialect.encoding, "replace")))
            continue
        if text:
            source.line = text
            fields = next(reader)
        else:
            fields = []
        if len(fields) != width:
            refused.append(Reject(number, f"{len(fields)} columns, expected {width}", text))
            continue
        rows.append(fields if in_order else ["" if i is None else fields[i] for i in order])
        numbers.append(number)
        texts.append(text)
        extras.append(extras_of(fields) if extra_at else "")
        if len(rows) == 5_000:
            check_rows(rows, numbers, texts, extras, refused)
            rows, numbers, texts, extras, refused = [], [], [], [], []
    check_rows(rows, numbers, texts, extras, refused)

    if result.rows_in_file < feed.min_rows:
        raise FileRejected(f"{result.rows_in_file} data rows, the contract requires at least {feed.min_rows}")
    if result.rows_in_file and result.rows_rejected / result.rows_in_file > max_reject_share:
        raise FileRejected(
            f"{result.rows_rejected} of {result.rows_in_file} rows rejected (more than {max_reject_share:.0%}); "
            f"first: line {result.rejects[0].line}: {result.rejects[0].reason}"
        )
    if event_days:
        window = {day, (business_date - timedelta(days=1)).isoformat()}
        in_window = sum(n for d, n in event_days.items() if d in window)
        if in_window / sum(event_days.values()) < CONTENT_DATE_MIN_SHARE:
            common = event_days.most_common(1)[0][0]
            raise FileRejected(f"rows are dated {common} (mostly), not {day}: the file name's date looks wrong")
    result.accepted_csv = out.getvalue().encode("utf-8")
    return result
