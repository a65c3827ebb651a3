"""docs/architecture.md "How to add a feed, a column, a GOLD table, a check", followed to the
letter on an in-process warehouse (tests/unit/overlay.py changes the project inside the test):

- a partner feed ``store_visits`` (visitors per store and day, files from a start date) with a
  critical reference to the stores, a MODEL fact and a GOLD table of visitors per state;
- a GOLD column ``sold_lines`` on ``DAILY_REVENUE``.

The recipe's files are the only ones written; the warehouse built before the change is brought to
it by the set-up (its migration adds the column, its bootstrap the new tables); one run transforms
the new feed's first day into SILVER, MODEL and GOLD, and every check of the run - the new feed's
key, orphan and fact-key checks among them, all generated - passes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from include import contracts, declarations
from include.config import MAX_REJECT_SHARE, WAREHOUSE
from include.sql_render import SQL_DIR
from tests.unit.overlay import project

DAY = date(2026, 4, 7)
DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"

# what the engineer writes in the three declarations (as YAML, added to the real files)
FEED = yaml.safe_load(f"""
description: Visitors counted at each store's doors, per day.
key: [visit_date, store_id]
active_from: {DAY}
columns:
  - {{name: visit_date, type: date}}
  - name: store_id
    type: string
    references: {{to: stores.store_id, check: unknown_visited_store, severity: critical}}
  - {{name: visitors, type: integer, min: 0}}
""")
FACT = yaml.safe_load("""
name: FCT_STORE_VISITS
kind: table
key: [visit_date, store_id]
rebuilt: store_visits
checks: [key_unique]
columns:
  - {name: visit_date, type: date, nullable: false}
  - {name: store_id, type: varchar, nullable: false}
  - {name: visitors, type: "number(38, 0)", nullable: false}
""")
GOLD_TABLE = yaml.safe_load("""
name: DAILY_STORE_VISITS
kind: table
built_by: gold/daily_store_visits.sql
publish: {column: visit_date, build_dates: completeness}
key: [visit_date, state]
doc: "Grain: visit date x store state. Feeds: store_visits, stores."
checks:
  visitors: {min: {geq_to: 0}}
columns:
  - {name: visit_date, type: date, nullable: false, definition: visit date, unit: date, additivity: key}
  - {name: state, type: varchar, nullable: false, definition: the store's state, additivity: key}
  - {name: visitors, type: "number(38, 0)", nullable: false, definition: visitors counted, additivity: additive}
""")
SOLD_LINES = yaml.safe_load("""
{name: sold_lines, type: "number(38, 0)", nullable: false, definition: sold lines in this row, additivity: additive}
""")

SQL = {
    "silver/store_visits.sql": """\
-- SILVER.STORE_VISITS: latest state per key from the change set's BRONZE partitions.
{% from 'silver/_merge_latest.sql' import merge_latest %}
{% set feed = contract.feed('store_visits') %}
{{ merge_latest(feed, feed.table, feed.key) }}
""",
    "model/fct_store_visits.sql": """\
{% from '_changes.sql' import changed_batches %}
merge into {{ ref('model.FCT_STORE_VISITS') }} as t
using (
    select visit_date, store_id, visitors
    from {{ ref('silver.STORE_VISITS') }}
    where _batch_date in {{ changed_batches('store_visits') }}
) as s
on t.visit_date = s.visit_date and t.store_id = s.store_id
when matched then update set visitors = s.visitors
when not matched then insert (visit_date, store_id, visitors) values (s.visit_date, s.store_id, s.visitors)
""",
    "gold/daily_store_visits.sql": """\
{% from 'gold/_build.sql' import build %}
{% from '_changes.sql' import build_dates %}
{% call build('DAILY_STORE_VISITS') %}
select v.visit_date, coalesce(s.state, 'unknown') as state, sum(v.visitors) as visitors
from {{ ref('model.FCT_STORE_VISITS') }} as v
left join {{ ref('model.DIM_STORE') }} as s on s.store_id = v.store_id
where v.visit_date in {{ build_dates('completeness') }}
group by v.visit_date, coalesce(s.state, 'unknown')
{% endcall %}
""",
}


def _with(path: Path, change) -> str:
    raw = yaml.safe_load(path.read_text())
    change(raw)
    return yaml.safe_dump(raw, sort_keys=False)


def _gold(raw: dict) -> None:
    raw["objects"].append(GOLD_TABLE)
    next(o for o in raw["objects"] if o["name"] == "DAILY_REVENUE")["columns"].append(SOLD_LINES)


def _changed_project(folder: Path):
    daily_revenue = (SQL_DIR / "gold" / "daily_revenue.sql").read_text()
    assert daily_revenue.count("    count(distinct basket_key) as orders,\n") == 1
    return project(
        folder,
        contract=_with(contracts.CONTRACT_PATH, lambda raw: raw["feeds"].__setitem__("store_visits", FEED)),
        model_yml=_with(declarations.FILES["model"], lambda raw: raw["objects"].append(FACT)),
        gold_yml=_with(declarations.FILES["gold"], _gold),
        sql={
            **SQL,
            "gold/daily_revenue.sql": daily_revenue.replace(
                "    count(distinct basket_key) as orders,\n",
                "    count(distinct basket_key) as orders,\n    count(*) as sold_lines,\n",
            ),
        },
    )


def _documented(recipe: str) -> set[str]:
    """The files docs/architecture.md names for a recipe (its bullet list under the heading)."""
    text = DOC.read_text()
    section = text[text.index(f"### {recipe}") :]
    section = section[: section.index("\n###", 4)] if "\n###" in section[4:] else section
    return set(re.findall(r"^\d+\. `([^`]+)`", section, flags=re.MULTILINE))


def test_the_recipes_touch_the_files_the_document_names() -> None:
    feed = {"include/contracts/feeds.yaml", "include/sql/model/model.yml", "include/sql/gold/gold.yml"}
    names = {"daily_store_visits": "<table>", "fct_store_visits": "<fact>", "store_visits": "<feed>"}
    for path in SQL:
        for name, placeholder in names.items():
            path = path.replace(name, placeholder)
        feed.add(f"include/sql/{path}")
    assert _documented("A feed that reaches GOLD") == feed
    assert len(feed) <= 8
    assert _documented("A GOLD column") == {"include/sql/gold/gold.yml", "include/sql/gold/<table>.sql"}


def _visits_file(cur: Any) -> tuple[bytes, dict[str, int]]:
    """The partner's first file: every store, a visitor count each; the expected visitors per state."""
    cur.execute(f"select store_id, state from {WAREHOUSE.qualified(WAREHOUSE.silver, 'STORES')} order by store_id")
    stores = cur.fetchall()
    assert len(stores) > 3
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["visit_date", "store_id", "visitors"])
    per_state: dict[str, int] = {}
    for n, (store, state) in enumerate(stores):
        writer.writerow([DAY.isoformat(), store, 100 + 7 * n])
        per_state[state] = per_state.get(state, 0) + 100 + 7 * n
    return out.getvalue().encode(), per_state


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Two days of the other feeds; the first published before the change was deployed."""
    from local.history import build_model, in_process_warehouse, load_bronze

    with in_process_warehouse() as hook:
        load_bronze(hook, DAY - timedelta(days=1), DAY, scale=0.05, seed=7)
        build_model(hook, DAY - timedelta(days=1), DAY - timedelta(days=1), gold=True)
        with _changed_project(tmp_path_factory.mktemp("project")):
            yield hook


def _check_results(hook: Any) -> list[tuple]:
    from include.sql_render import render_sql, statements
    from include.transform.layers import CHECKS
    from include.transform.window import Window

    window, found = Window(DAY, DAY), []
    conn = hook.get_conn()
    cur = conn.cursor()
    for layer, checks in CHECKS.items():
        for check in checks:
            (sql,) = statements(render_sql(f"dq/{layer}/{check}.sql", window=window, business_date=DAY))
            cur.execute(sql, {"run_id": "visits"} if "%(run_id)s" in sql else None)
            found += [tuple(r) for r in cur.fetchall()]
    conn.close()
    return found


def test_a_new_feed_reaches_gold_and_every_generated_check_passes(warehouse) -> None:
    from include import migrations
    from include.ingest.validation import validate_file
    from include.sql_render import table_statements
    from include.transform import graph, layers
    from include.transform.window import Window
    from local.history import _register_partitions

    hook = warehouse
    conn = hook.get_conn()
    cur = conn.cursor()
    # the set-up DAG after the deploy: migrate, then the bootstrap
    done = migrations.migrate(cur, "setup")
    assert done.statements == [
        f"alter table {WAREHOUSE.qualified(schema, 'DAILY_REVENUE')} add column sold_lines DECIMAL(38, 0)"
        for schema in (WAREHOUSE.gold, WAREHOUSE.gold_stage)
    ]
    for statement in table_statements():
        cur.execute(statement)
    # the daily DAG's steps follow from the declarations and the ref() calls
    assert "store_visits" in layers.LAYER_OBJECTS["silver"]
    assert graph.ordered("model").index("fct_store_visits") > graph.ordered("model").index("dim_date")
    assert {"model.FCT_STORE_VISITS", "model.DIM_STORE"} <= graph.traced("gold/daily_store_visits.sql").reads

    # the partner's first file, validated against the contract and loaded as load_bronze loads it
    data, per_state = _visits_file(cur)
    result = validate_file(data, f"store_visits_{DAY:%Y%m%d}.csv", "store_visits", DAY, MAX_REJECT_SHARE)
    assert result.rejects == [] and result.warnings == []
    rows = list(csv.reader(io.StringIO(result.accepted_csv.decode())))
    header = ", ".join(rows[0][:-1])  # _extra: none
    values = ", ".join(["%s"] * (len(rows[0]) - 1))
    table = WAREHOUSE.qualified(WAREHOUSE.bronze, "STORE_VISITS")
    cur.executemany(f"insert into {table} ({header}) values ({values})", [r[:-1] for r in rows[1:]])  # noqa: S608
    conn.close()
    _register_partitions(hook, DAY, DAY, ("store_visits",))

    layers.process_changes(hook, "visits", Window(DAY, DAY), gold=True)

    results = _check_results(hook)
    failed = [r for r in results if not r[5] and r[6] == "critical"]
    assert failed == []
    checked = {(r[0], r[1]) for r in results}
    assert {("key_unique", "SILVER.STORE_VISITS"), ("unknown_visited_store", "SILVER.STORE_VISITS")} <= checked
    assert any(name == "key_unique" and "FCT_STORE_VISITS" in t for name, t in checked), sorted(checked)

    conn = hook.get_conn()
    cur = conn.cursor()
    gold, model = WAREHOUSE.gold, WAREHOUSE.model
    cur.execute(
        f"select state, visitors from {WAREHOUSE.qualified(gold, 'DAILY_STORE_VISITS')} where visit_date = '{DAY}'"
    )
    assert {s: int(v) for s, v in cur.fetchall()} == per_state
    # the new column: every sold line of the day, online and in store
    cur.execute(
        f"select sum(sold_lines) from {WAREHOUSE.qualified(gold, 'DAILY_REVENUE')} where revenue_date = '{DAY}'"
    )
    (sold_lines,) = cur.fetchone()
    cur.execute(
        f"select (select count(*) from {WAREHOUSE.qualified(model, 'FCT_ORDER_ITEMS')} where order_date = '{DAY}')"
        f" + (select count(*) from {WAREHOUSE.qualified(model, 'FCT_STORE_SALES')} where sold_date = '{DAY}')"
    )
    assert int(sold_lines) == cur.fetchone()[0] > 0
    conn.close()


def test_the_new_objects_are_in_the_generated_documents(warehouse) -> None:
    assert (
        "## `store_visits`" in contracts.render_markdown() and "Files from: 2026-04-07" in contracts.render_markdown()
    )
    metrics = declarations.render_metrics()
    assert "DAILY_STORE_VISITS" in metrics and "sold_lines" in metrics
