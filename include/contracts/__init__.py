"""The partner feed contract (``feeds.yaml``), loaded once into typed objects.

The simulator writes files that follow it, ingestion enforces it, and ``docs/feeds.md`` is
rendered from it, so the three can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONTRACT_PATH = Path(__file__).with_name("feeds.yaml")
COLUMN_TYPES = ("string", "integer", "decimal", "date", "timestamp", "boolean")
# Snowflake type of each contract type in SILVER and later layers (BRONZE keeps text as delivered).
SQL_TYPES = {
    "string": "varchar",
    "integer": "number(38, 0)",
    "decimal": "number(14, 2)",
    "date": "date",
    "timestamp": "timestamp_ntz",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = False
    values: tuple[str, ...] | None = None
    pattern: str | None = None
    min: float | None = None
    references: str | None = None  # "<feed>.<column>": checked downstream (model_checks.orphans)
    reference_check: str | None = None  # the orphans check's name for it
    reference_severity: str = "warning"  # critical fails the run before GOLD; warning is recorded
    # the contract version that added the column: a file without it (a partner still on an older
    # version) loads with it empty, and BRONZE rows loaded before it was declared give SILVER the
    # value they kept in _extra
    since: int | None = None

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Feed:
    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    min_rows: int = 1
    latest_by: tuple[str, ...] = ()
    event_time: str | None = None
    # the first business date a file of the feed exists for: before it, no sensor waits for one,
    # no alert says it is missing, and a date is complete without it
    active_from: date | None = None

    def active_on(self, day: date) -> bool:
        return self.active_from is None or day >= self.active_from

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def table(self) -> str:
        """BRONZE/SILVER table name for the feed (Snowflake identifiers are upper case)."""
        return self.name.upper()


@dataclass(frozen=True)
class Dialect:
    """How every file is written; validation reads files with exactly this (header row required)."""

    encoding: str = "utf-8"
    delimiter: str = ","
    quote: str = '"'


@dataclass(frozen=True)
class Contract:
    version: int
    name_pattern: re.Pattern[str]
    feeds: dict[str, Feed] = field(default_factory=dict)
    dialect: Dialect = field(default_factory=Dialect)

    def feed(self, name: str) -> Feed:
        try:
            return self.feeds[name]
        except KeyError:
            raise KeyError(f"unknown feed {name!r}; known feeds: {', '.join(self.feeds)}") from None


def _column(raw: dict[str, Any]) -> Column:
    if raw["type"] not in COLUMN_TYPES:
        raise ValueError(f"column {raw['name']}: unknown type {raw['type']!r}")
    return Column(
        name=raw["name"],
        type=raw["type"],
        nullable=bool(raw.get("nullable", False)),
        values=tuple(raw["values"]) if raw.get("values") else None,
        pattern=raw.get("pattern"),
        min=raw.get("min"),
        since=raw.get("since"),
        **_reference(raw),
    )


def _reference(raw: dict[str, Any]) -> dict[str, Any]:
    """``references``: "<feed>.<column>", or {to: "<feed>.<column>", check: <name>, severity: ...}."""
    ref = raw.get("references")
    if ref is None:
        return {}
    if isinstance(ref, str):
        ref = {"to": ref}
    severity = ref.get("severity", "warning")
    if severity not in ("critical", "warning"):
        raise ValueError(f"column {raw['name']}: references severity {severity!r}: critical or warning")
    return {
        "references": ref["to"],
        "reference_check": ref.get("check") or f"unknown_{ref['to'].split('.')[0].rstrip('s')}",
        "reference_severity": severity,
    }


@cache
def load_contract(path: Path | None = None) -> Contract:
    """The contract (``CONTRACT_PATH``, or ``path``), parsed once per process."""
    path = path or CONTRACT_PATH
    # libyaml's safe loader (in the PyYAML wheel): 2 ms instead of 28 ms, paid by every parse of a
    # DAG file that reads the contract
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    feeds = {
        name: Feed(
            name=name,
            description=" ".join(spec["description"].split()),
            key=tuple(spec["key"]),
            columns=tuple(_column(c) for c in spec["columns"]),
            min_rows=int(spec.get("min_rows", 1)),
            latest_by=tuple(spec.get("latest_by", ())),
            event_time=spec.get("event_time"),
            active_from=_date(spec.get("active_from")),
        )
        for name, spec in raw["feeds"].items()
    }
    file = raw["file"]
    if file.get("header") != "required":
        raise ValueError("the contract's files must have a header row (file.header: required)")
    dialect = Dialect(encoding=file["encoding"], delimiter=file["delimiter"], quote=file["quote"])
    for feed in feeds.values():
        for col in feed.columns:
            if col.since is not None and not (col.nullable and 1 < col.since <= raw["version"]):
                raise ValueError(
                    f"{feed.name}.{col.name}: since {col.since} needs a nullable column and a version after 1, "
                    f"up to the contract's ({raw['version']})"
                )
    return Contract(version=raw["version"], name_pattern=re.compile(file["name_pattern"]), feeds=feeds, dialect=dialect)


def _date(value: Any) -> date | None:
    return value if isinstance(value, date) or value is None else date.fromisoformat(str(value))


def active_feeds(day: date) -> list[str]:
    """The feeds whose files exist for ``day`` (``active_from`` on or before it), in contract order."""
    return [name for name, feed in load_contract().feeds.items() if feed.active_on(day)]


FEED_NAMES: tuple[str, ...] = tuple(load_contract().feeds)


def render_markdown(contract: Contract | None = None) -> str:
    """Render the contract as the human-readable docs/feeds.md."""
    contract = contract or load_contract()
    lines = [
        "# Partner feed contract",
        "",
        "<!-- Rendered from include/contracts/feeds.yaml by `python -m include.contracts render`."
        " Do not edit by hand: tests/unit/test_contract_doc.py fails when the two differ. -->",
        "",
        f"Contract version {contract.version}. Ingestion enforces everything on this page.",
        "",
        "## Files",
        "",
        f"- Name: `<feed>_<YYYYMMDD>.csv`, matching `{contract.name_pattern.pattern}`; the date is"
        " the business date the file belongs to. Any other name is quarantined.",
        "- One file per feed per business date, dropped into the bucket's `inbox/` prefix.",
        f"- Encoding {contract.dialect.encoding.upper()} (a leading byte-order mark is ignored), fields separated"
        f" by `{contract.dialect.delimiter}` and quoted with `{contract.dialect.quote}`, `\\n` line ends (a `\\r`"
        " before it is dropped), a header row with exactly the columns below (same names; a different"
        " order is accepted and logged).",
        "- Types: `string`; `integer` (digits, optional leading `-`); `decimal` (digits with at most"
        " two decimals, `.` separator); `date` `YYYY-MM-DD`; `timestamp` `YYYY-MM-DD HH:MM:SS` in"
        " UTC (a `T` separator is accepted); `boolean` `true`/`false`. Empty means NULL and is only"
        " allowed where nullable. Fields hold no line breaks.",
        "",
        "## What happens to bad input",
        "",
        "| problem | outcome |",
        "|---|---|",
        "| name does not match in full (path separators, quotes, semicolons, look-alike or non-ASCII"
        " characters, another extension), unknown feed, a date that does not exist (`20260230`) or"
        " lies after today (UTC) | file moved to `quarantine/` under a sanitised name, reason file"
        " beside it, one alert |",
        "| not text: a compressed or binary file named `.csv` | file quarantined (its header is not"
        " UTF-8), run fails |",
        "| empty file, missing header, a missing column, a column named twice, fewer rows than"
        " `min rows` | file quarantined, run fails, nothing of that feed loaded for the date |",
        "| a column the contract does not have (a partner ahead of the contract) | file loads, the"
        " column's values kept per row in BRONZE `_extra` (JSON) and named in the file's"
        " `AUDIT.FILE_LOADS.reason`; declared later with `since`, SILVER reads them from there |",
        "| a column added in a later contract version (`since`) absent | file loads, the column empty |",
        "| a row with a wrong column count (a line break inside a field makes two such rows), bad"
        " type (exponent notation, a decimal comma, another date format), value outside the allowed"
        " set or range (a negative quantity), a date or timestamp after the file's business date,"
        " invalid UTF-8 | row written to `AUDIT.LOAD_REJECTS` (file, line, reason, raw text);"
        " the rest of the file loads |",
        "| more than `RETAIL_MAX_REJECT_SHARE` (5%) of the rows rejected, or most rows dated"
        " neither on the file's date nor the day before | file quarantined, run fails |",
        "| the same key more than once in one file | every row loads to BRONZE with its own line;"
        " SILVER keeps the latest version (the feed's `latest state by` columns, then the later"
        " line) |",
        "| the same file (same name and checksum) delivered again | not loaded twice; recorded as"
        " a duplicate delivery in `AUDIT.FILE_LOADS` |",
        "| a file for a date whose run already loaded or quarantined that feed (a late delivery) |"
        " the next run's `sweep_inbox` reports it once: new content waits in the inbox (`LATE` in"
        " `AUDIT.FILE_LOADS`) until the date is re-run, which loads it and keeps the replaced"
        " delivery in history; the archived file sent again counts as a delivery and leaves the"
        " inbox; an older version or a quarantined file sent again is quarantined (a re-run of the date that finds"
        " an older version in the inbox quarantines it too and fails that feed with the reason) |",
        "| foreign key with no parent (`references`) | loaded; reported by the orphan checks |",
        "",
    ]
    for feed in contract.feeds.values():
        lines += [
            f"## `{feed.name}`",
            "",
            feed.description,
            "",
            f"- Key: `{', '.join(feed.key)}`"
            + (f"; latest state by `{', '.join(feed.latest_by)}`" if feed.latest_by else ""),
            f"- Min rows: {feed.min_rows}",
            *([f"- Files from: {feed.active_from} (none expected before)"] if feed.active_from else []),
            "",
            "| column | type | nullable | rule | references |",
            "|---|---|---|---|---|",
        ]
        for col in feed.columns:
            rules = [f"since version {col.since}"] if col.since else []
            if col.values:
                rules.append("one of " + ", ".join(f"`{v}`" for v in col.values))
            if col.pattern:
                rules.append(f"matches `{col.pattern}`")
            if col.min is not None:
                rules.append(f">= {col.min:g}")
            lines.append(
                f"| `{col.name}` | {col.type} | {'yes' if col.nullable else 'no'} | "
                f"{'; '.join(rules)} | {col.references or ''} |"
            )
        lines.append("")
    return "\n".join(lines)
