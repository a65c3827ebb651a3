"""What each transform step reads and writes, from the ``ref()`` calls of its SQL, and what follows
from it: the order of the steps within a layer (the DAG's edges and ``process_changes``), the
lineage listing, and the inputs and outputs each task reports to OpenLineage.

A step writes the tables its statements insert into, update, delete from or merge into, and reads
every other table it names. Step B runs after step A of the same layer when B reads a table A
writes and B does not write it itself (a table several steps append to - the pending revenue
dates, the pending customers - orders its writers before its readers, not its writers among
themselves).

    python -m include.transform.graph           # the lineage listing, step by step
    python -m include.transform.graph --write   # MANIFEST again, after changing a step's SQL

Rendering every step's SQL to read its ``ref()`` calls takes about a second, too much for a DAG
parse (every task process parses its DAG): the DAG reads ``MANIFEST`` (graph.json), which this
module writes, and ``tests/unit/test_graph.py`` fails when it is not what the SQL says now.
"""

from __future__ import annotations

import graphlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from include.sql_render import LAYERS, referencing, render_sql, statements

# Each layer's steps, in the order they are listed (ties of the graph keep this order).
SILVER_FEED_ORDER = ("customer_versions",)  # then the contract's feeds
# MODEL: the objects of model/model.yml in their declared order, then the layer's other SQL files
# (the customer aggregates): a new dimension or fact is its declaration and its SQL file.
# Where two steps read what the other writes, the SQL cannot say which runs first: declared here.
# fct_orders moves its orders' payments' activity to the orders' current customers, and
# fct_payments counts each payment for its order's current customer: payments after orders.
DECLARED_AFTER: dict[str, set[str]] = {"fct_payments": {"fct_orders"}}
MANIFEST = Path(__file__).with_name("graph.json")
_WRITE = re.compile(r"^\s*(?:insert\s+into|update|delete\s+from|merge\s+into|copy\s+into)\s+([\w$.\"]+)", re.I)


@dataclass(frozen=True)
class Step:
    """One step's SQL file and the tables (``layer.NAME``) it reads and writes."""

    template: str
    reads: frozenset[str]
    writes: frozenset[str]


def layer_of(qualified: str) -> str:
    from include.config import WAREHOUSE

    _, schema, name = qualified.replace('"', "").upper().split(".")
    by_schema = {getattr(WAREHOUSE, layer).upper(): layer for layer in LAYERS}
    return f"{by_schema[schema]}.{name}"


@cache
def _manifest() -> dict[str, dict[str, list[str]]]:
    return json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}


def step(template: str) -> Step:
    """What ``template`` reads and writes: from the manifest, else from its SQL."""
    if entry := _manifest().get(template):
        return Step(template, frozenset(entry["reads"]), frozenset(entry["writes"]))
    return traced(template)


@cache
def traced(template: str) -> Step:
    """The tables ``template`` names through ``ref()``, split into writes and reads."""
    from include.transform.window import Window

    day = date(2026, 1, 15)
    with referencing() as named:
        sql = render_sql(template, window=Window.for_run(day, 3), business_date=day)
    writes = {layer_of(m[1]) for s in statements(sql) if (m := _WRITE.match(s))}
    return Step(template, frozenset(named - writes), frozenset(writes))


def layer_steps(layer: str) -> tuple[str, ...]:
    """The steps of a layer as listed (silver: the customer versions, then one per feed)."""
    if layer == "silver":
        from include.contracts import load_contract

        return (*SILVER_FEED_ORDER, *load_contract().feeds)
    if layer == "model":
        return model_steps()
    raise ValueError(f"no steps listed for layer {layer!r}")


@cache
def model_steps() -> tuple[str, ...]:
    from include.declarations import declared
    from include.sql_render import template_names

    files = {name.removeprefix("model/").removesuffix(".sql") for name in template_names("model/")}
    steps = [o.name.lower() for o in declared("model") if o.name.lower() in files]
    others = sorted(f for f in files if not f.startswith("_") and "/" not in f and f not in steps)
    return (*steps, *others)


def upstream(layer: str) -> dict[str, set[str]]:
    """For each step of the layer, the steps of the same layer it must run after."""
    names = layer_steps(layer)
    found = {name: step(f"{layer}/{name}.sql") for name in names}
    edges = {b: {a for a in names if a != b and (found[b].reads - found[b].writes) & found[a].writes} for b in names}
    for later, earlier in DECLARED_AFTER.items():
        if later in edges:
            edges[later] |= earlier
            for first in earlier:
                edges[first].discard(later)
    return edges


def ordered(layer: str) -> tuple[str, ...]:
    """The layer's steps in an order that respects ``upstream`` (as listed where free)."""
    names = layer_steps(layer)
    sorter = graphlib.TopologicalSorter(upstream(layer))
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=names.index)
        order += ready
        sorter.done(*ready)
    return tuple(order)


def lineage(templates: Iterable[str]) -> list[str]:
    lines = []
    for template in templates:
        s = step(template)
        reads, writes = ", ".join(sorted(s.reads)) or "-", ", ".join(sorted(s.writes)) or "-"
        lines.append(f"{template}\n    reads:  {reads}\n    writes: {writes}")
    return lines


def transform_templates() -> list[str]:
    """Every SQL file of a daily run's transform, in run order."""
    from include.transform.layers import CHECKS

    templates = ["audit/plan_change_set.sql"]
    for layer in ("silver", "model"):
        templates += [f"{layer}/{obj}.sql" for obj in layer_steps(layer)]
        templates += [f"dq/{layer}/{check}.sql" for check in CHECKS[layer]]
    templates += ["gold/build.sql", *(f"dq/gold/{check}.sql" for check in CHECKS["gold"]), "gold/publish.sql"]
    return templates


def manifest() -> dict[str, dict[str, list[str]]]:
    """Every transform step's reads and writes, as traced from its SQL now."""
    return {t: {"reads": sorted(traced(t).reads), "writes": sorted(traced(t).writes)} for t in transform_templates()}


def main() -> None:
    import sys

    if "--write" in sys.argv[1:]:
        MANIFEST.write_text(json.dumps(manifest(), indent=1, sort_keys=True) + "\n")
        print(f"wrote {MANIFEST}")  # noqa: T201
        return
    print("\n".join(lineage(transform_templates())))  # noqa: T201


if __name__ == "__main__":
    main()
