"""MODEL and GOLD objects, each declared once beside its SQL (``include/sql/model/model.yml``,
``include/sql/gold/gold.yml``), and what is derived from the declarations: the tables' DDL, the
column lists of the builds, the publication and the projection views, the GOLD column checks and
the key checks, the migrations an existing warehouse needs, and ``docs/metrics.md``.

    python -m include.declarations render    # docs/metrics.md again from gold.yml

No Airflow import; the SQL templates see ``declared(layer)`` and ``columns('<layer>.<NAME>')``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SQL_DIR = Path(__file__).with_name("sql")
FILES = {"model": SQL_DIR / "model" / "model.yml", "gold": SQL_DIR / "gold" / "gold.yml"}
METRICS_DOC = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "varchar"
    nullable: bool = True
    definition: str = ""
    unit: str = ""
    additivity: str = ""
    default: str | None = None

    def ddl(self) -> str:
        text = f"{self.name} {self.type}"
        if not self.nullable:
            text += " not null"
        if self.default:
            text += f" default {self.default}"
        return text


@dataclass(frozen=True)
class DeclaredObject:
    layer: str
    name: str
    kind: str  # table | view
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    doc: str = ""
    notes: str = ""
    heading: str = ""
    document: bool = True
    built_by: str | None = None
    publish: dict[str, Any] | None = None  # GOLD: the rows a publication replaces
    stage_only: bool = False  # GOLD_STAGE only (the build's bookkeeping)
    checks: Any = None  # GOLD: column checks; MODEL: check names (key_unique)
    rebuilt: str | None = None  # MODEL facts: which keys a run rebuilds (orders, or a feed)
    cluster_by: tuple[str, ...] = ()  # Snowflake's clustering key (the large facts)
    view: dict[str, Any] | None = None  # GOLD: the projection view over the table
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def ddl_columns(self) -> str:
        return ",\n".join(f"    {c.ddl()}" for c in self.columns)

    def column_checks(self) -> dict[str, dict[str, Any]]:
        """The provider's column_mapping (SQLColumnCheckOperator) of the declared GOLD checks."""
        return {
            col: {k: v for k, v in checks.items() if k != "severity"} for col, checks in (self.checks or {}).items()
        }

    def check_severity(self, column: str) -> str:
        return str((self.checks or {}).get(column, {}).get("severity", "critical"))


@dataclass(frozen=True)
class Declarations:
    layer: str
    preamble: str
    appendix: str
    objects: tuple[DeclaredObject, ...]


def _column(raw: dict[str, Any]) -> Column:
    return Column(**{k: (str(v) if k != "nullable" else bool(v)) for k, v in raw.items()})


@cache
def load(layer: str) -> Declarations:
    raw = yaml.safe_load(FILES[layer].read_text())
    objects = []
    for entry in raw["objects"]:
        known = set(DeclaredObject.__dataclass_fields__) - {"layer", "raw"}
        if unknown := set(entry) - known - {"name"}:
            raise ValueError(f"{FILES[layer].name}: {entry['name']}: unknown fields {sorted(unknown)}")
        objects.append(
            DeclaredObject(
                layer=layer,
                columns=tuple(_column(c) for c in entry["columns"]),
                key=tuple(entry.get("key", ())),
                cluster_by=tuple(entry.get("cluster_by", ())),
                raw=entry,
                **{k: v for k, v in entry.items() if k not in ("columns", "key", "cluster_by")},
            )
        )
    names = [o.name for o in objects]
    if len(set(names)) != len(names):
        raise ValueError(f"{FILES[layer].name}: an object is declared twice")
    return Declarations(layer, raw.get("preamble", ""), raw.get("appendix", ""), tuple(objects))


def declared(layer: str, kind: str | None = "table") -> tuple[DeclaredObject, ...]:
    """The layer's declared objects (of ``kind``; None: all), in their declared order."""
    return tuple(o for o in load(layer).objects if kind is None or o.kind == kind)


def find(name: str) -> DeclaredObject:
    """``'<layer>.<NAME>'``: its declaration (gold_stage objects are GOLD's)."""
    layer, _, obj = name.partition(".")
    layer = "gold" if layer == "gold_stage" else layer
    for o in load(layer).objects:
        if o.name == obj.upper():
            return o
    raise KeyError(f"{name} is not declared in {FILES[layer].relative_to(SQL_DIR.parent.parent)}")


def columns(name: str, prefix: str = "") -> str:
    """The declared columns of ``'<layer>.<NAME>'``, comma separated (``prefix``: a table alias)."""
    return ", ".join(f"{prefix}{c}" for c in find(name).column_names)


@dataclass(frozen=True)
class Reference:
    """A foreign key the feed contract declares: checked on SILVER by model_checks.orphans."""

    check: str
    child: str  # the SILVER table
    column: str
    parent: str
    parent_column: str
    severity: str


def references() -> tuple[Reference, ...]:
    """Every ``references`` of the feed contract, as the orphans check reads them."""
    from include.contracts import load_contract

    contract, found = load_contract(), []
    for feed in contract.feeds.values():
        for col in feed.columns:
            if col.references:
                parent, parent_column = col.references.split(".")
                found.append(
                    Reference(
                        col.reference_check or "", feed.table, col.name, contract.feed(parent).table, parent_column,
                        col.reference_severity,
                    )
                )  # fmt: skip
    return tuple(found)


# ---------------------------------------------------------------------------------------- docs
def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render_metrics() -> str:
    """docs/metrics.md from gold.yml: the preamble, a section per documented object with its
    columns, the appendix."""
    gold = load("gold")
    parts = [gold.preamble.rstrip()]
    for o in gold.objects:
        if not o.document:
            continue
        section = (
            [f"## {o.heading or f'`{o.name}`'}", "", o.doc.rstrip()] if o.doc else [f"## {o.heading or f'`{o.name}`'}"]
        )
        cols = list(o.columns) + [Column(**c) for c in (o.view or {}).get("extra_columns", [])]
        wide = any(c.unit or c.additivity for c in cols)
        section += ["", "| column | definition | unit | additivity |" if wide else "| column | definition |"]
        section.append("|---|---|---|---|" if wide else "|---|---|")
        for c in cols:
            cells = [f"`{c.name}`", _cell(c.definition)] + ([_cell(c.unit), _cell(c.additivity)] if wide else [])
            section.append("| " + " | ".join(cells) + " |")
        if o.notes:
            section += ["", o.notes.rstrip()]
        parts.append("\n".join(section))
    parts.append(gold.appendix.rstrip())
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] != ["render"]:
        print("usage: python -m include.declarations render", file=sys.stderr)  # noqa: T201
        return 2
    METRICS_DOC.write_text(render_metrics())
    print(f"wrote {METRICS_DOC}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
