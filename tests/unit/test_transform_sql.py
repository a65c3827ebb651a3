"""The layer SQL renders for any window, each file is atomic, and the window arithmetic is right."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from include.sql_render import SQL_DIR, render_sql, statements
from include.transform.layers import CHECKS, LAYER_OBJECTS
from include.transform.window import Window

WINDOW = Window.for_run(date(2026, 3, 2), 7)


def test_window_covers_the_business_date_and_the_lookback() -> None:
    w = Window.for_run(date(2026, 3, 2), 7)
    assert (w.start, w.end, len(w.dates)) == (date(2026, 2, 23), date(2026, 3, 2), 8)
    assert (w.start_month, w.after_end, w.after_end_month) == (date(2026, 2, 1), date(2026, 3, 3), date(2026, 4, 1))
    assert Window.for_run(date(2026, 12, 31), 0).after_end_month == date(2027, 1, 1)
    with pytest.raises(ValueError, match="lookback_days"):
        Window.for_run(date(2026, 3, 2), -1)


def test_the_window_of_a_task_follows_the_business_date_rule() -> None:
    from datetime import UTC, datetime

    context = {"params": {"lookback_days": 2, "business_date": None}, "logical_date": datetime(2026, 3, 2, tzinfo=UTC)}
    assert Window.for_context(context) == Window(date(2026, 2, 28), date(2026, 3, 2))
    context["params"]["business_date"] = "2026-01-05"
    assert Window.for_context(context) == Window(date(2026, 1, 3), date(2026, 1, 5))


PENDING = {
    "retail_db.model.pending_revenue_dates",
    "retail_db.model.pending_customer_activity",
    "retail_db.model.pending_customers",
}
# a step whose object is two tables: the per-customer aggregates, by date and whole; the order
# lines and the customers' SCD2 rows, each with its step's work table of what it found changed
OWN_TABLES = {
    "model/customer_activity.sql": {"retail_db.model.customer_activity_daily", "retail_db.model.customer_activity"},
    "model/fct_order_items.sql": {"retail_db.model.fct_order_items", "retail_db.model.order_line_changes"},
    "model/dim_customer.sql": {"retail_db.model.dim_customer", "retail_db.model.customer_version_changes"},
}


@pytest.mark.parametrize("path", [f"{layer}/{obj}.sql" for layer, objs in LAYER_OBJECTS.items() for obj in objs])
def test_every_object_is_one_merge_or_one_transaction_on_its_own_table(path: str) -> None:
    """Atomic per object. Besides its own table, a MODEL step may only note what it changed for
    GOLD (the pending revenue dates and customer activity, model/_customer_activity.sql)."""
    parts = [s.strip().rstrip(";").strip().lower() for s in statements(render_sql(path, window=WINDOW))]
    if parts[-1].startswith("merge into"):
        # the stand-in cannot MERGE in a transaction that already wrote: the dates it affects are
        # noted first, on their own (noting a date twice is harmless)
        assert all(p.startswith("insert into retail_db.model.pending_revenue_dates") for p in parts[:-1]), path
        return
    assert parts[0] == "begin" and parts[-1] == "commit", f"{path}: several statements need begin ... commit"
    targets = {s.split()[2] for s in parts[1:-1] if s.split()[0] in ("delete", "insert")}
    assert len(targets - PENDING) == 1 or targets - PENDING == OWN_TABLES.get(path), targets


def test_gold_build_writes_only_the_stage_and_publish_only_gold() -> None:
    build = [s.lower().rstrip(";") for s in statements(render_sql("gold/build.sql", window=WINDOW))]
    publish = [s.lower().rstrip(";") for s in statements(render_sql("gold/publish.sql", window=WINDOW))]
    for parts in (build, publish):
        assert parts[0].startswith("begin") and parts[-1].startswith("commit")
    written = {s.split()[2] for s in build if s.split()[0] in ("delete", "insert")}
    assert written and all(t.startswith("retail_db.gold_stage.") for t in written), written
    published = {s.split()[2] for s in publish if s.split()[0] in ("delete", "insert")}
    assert published == {
        f"retail_db.gold.{t}"
        for t in (
            "daily_revenue",
            "monthly_revenue",
            "daily_kpi",
            "monthly_kpi",
            "date_completeness",
            "customer_as_of",
            "customer_rfm_base",
            "customer_features_base",
            "publications",
        )
    } | {"retail_db.model.pending_revenue_dates", "retail_db.model.pending_customers"}  # published: not pending
    updated = {s.split()[1] for s in publish if s.split()[0] == "update"}
    assert updated == {"retail_db.audit.bronze_partitions", "retail_db.gold_stage.build"}
    # GOLD days the build does not cover, and customers it did not rebuild, are never touched
    joined = " ".join(" ".join(publish).split())
    assert (
        "delete from retail_db.gold.daily_revenue where revenue_date in "
        "(select business_date from retail_db.gold_stage.build_dates where kind = 'revenue')"
    ) in joined
    assert (
        "delete from retail_db.gold.customer_features_base where customer_id in "
        "(select customer_id from retail_db.gold_stage.customer_changes)"
    ) in joined


def test_silver_merge_only_lets_a_newer_or_equal_record_win() -> None:
    sql = render_sql("silver/orders.sql", window=WINDOW)
    assert (
        "when matched and (s.status_updated_at > t.status_updated_at or (s.status_updated_at = t.status_updated_at"
        " and (s._batch_date > t._batch_date or (s._batch_date = t._batch_date and s._source_line >= t._source_line))))"
    ) in sql
    assert "partition by order_id\n        order by status_updated_at desc, _batch_date desc, _source_line desc" in sql


def test_silver_merge_moves_only_the_lineage_of_a_record_sent_again_unchanged() -> None:
    """A customer sent again as it was takes the new file's lineage and keeps its values; a
    correction with the same updated_at takes the new values; an older record loses (issue 46:
    the first matched clause updates every column, the second only the lineage)."""
    columns = "customer_id, first_name, last_name, email, segment, city, state, zip_code, signup_date, updated_at"
    lineage = "_source_file, _source_line, _batch_date"

    def record(customer: str, city: str, updated: str, day: str, line: int) -> str:
        person = "'Ann', 'Lee', 'a@x.io', 'retail'"
        place = f"'{city}', 'CA', '90001', '2025-01-01'"
        return f"'{customer}', {person}, {place}, '{updated}', 'customers_{day}.csv', {line}, '{day}'"

    before = [  # SILVER as the file of 2026-03-01 left it
        f"insert into RETAIL_DB.SILVER.CUSTOMERS ({columns}, {lineage}) "
        f"values ({record(c, 'Fresno', u, '2026-03-01', n)})"
        for n, (c, u) in enumerate(
            [("C1", "2026-02-01 00:00:00"), ("C2", "2026-02-01 00:00:00"), ("C4", "2026-02-20 00:00:00")]
        )
    ]
    file = [  # the file of 2026-03-02
        f"insert into RETAIL_DB.BRONZE.CUSTOMERS ({columns}, {lineage}) values ({record(c, city, u, '2026-03-02', n)})"
        for n, (c, city, u) in enumerate(
            [
                ("C1", "Fresno", "2026-02-01 00:00:00"),  # sent again unchanged
                ("C2", "Modesto", "2026-02-01 00:00:00"),  # corrected, same updated_at
                ("C3", "Napa", "2026-03-01 00:00:00"),  # new
                ("C4", "Davis", "2026-02-10 00:00:00"),  # older than SILVER's
            ]
        )
    ] + [
        "insert into RETAIL_DB.AUDIT.TRANSFORM_CHANGES (run_id, feed, batch_date, loaded_at, forced) "
        "values ('r', 'customers', '2026-03-02', '2026-03-02 06:00:00', false)"
    ]
    rows = _stand_in([("", before + file), ("silver/customers.sql", [])], "SILVER.CUSTOMERS")
    assert [(r[0], r[5], r[10], r[12]) for r in rows] == [
        ("C1", "Fresno", "customers_2026-03-02.csv", date(2026, 3, 2)),
        ("C2", "Modesto", "customers_2026-03-02.csv", date(2026, 3, 2)),
        ("C3", "Napa", "customers_2026-03-02.csv", date(2026, 3, 2)),
        ("C4", "Fresno", "customers_2026-03-01.csv", date(2026, 3, 1)),
    ]


@pytest.mark.parametrize("path", [f"dq/{layer}/{check}.sql" for layer, checks in CHECKS.items() for check in checks])
def test_every_check_renders_as_one_query(path: str) -> None:
    assert len(statements(render_sql(path, window=WINDOW))) == 1


def test_every_check_file_is_listed() -> None:
    on_disk = {str(p.relative_to(SQL_DIR / "dq"))[:-4] for p in (SQL_DIR / "dq").glob("*/*.sql")}
    assert on_disk == {f"{layer}/{check}" for layer, checks in CHECKS.items() for check in checks}


def _stand_in(steps: list[tuple[str, list[str]]], table: str) -> list[tuple]:
    """Run SQL on an in-process Snowflake stand-in with every pipeline table: each step is either
    insert statements, run in their order, or an SQL file rendered for 2026-03-02. Returns
    ``table``'s rows."""
    import tempfile

    import fakesnow
    import snowflake.connector

    from include.sql_render import table_statements
    from local import fakesnow_stage_files

    # its own stage folder, removed at the end (fakesnow's own is a temporary folder never removed)
    with tempfile.TemporaryDirectory() as stage, fakesnow_stage_files.kept_in(Path(stage)), fakesnow.patch():
        cur = snowflake.connector.connect().cursor()
        for statement in table_statements():
            cur.execute(statement)
        for path, inserts in steps:
            for statement in inserts or statements(render_sql(path, window=Window.for_run(date(2026, 3, 2), 0))):
                cur.execute(statement, {"run_id": "r"} if "%(run_id)s" in statement else None)
        cur.execute(f"select * from RETAIL_DB.{table} order by 1, 2")
        return cur.fetchall()


def test_gold_figures_do_not_depend_on_the_order_rows_were_loaded_in() -> None:
    """The local stand-in sums decimals in binary floating point: 16.84 + 34.91 + 4.60 is a hair
    above or below 56.35 depending on the order, and the average of 2 orders (28.175) then rounds
    either way. Backfilling newest first writes rows in another order than running in order, so
    every money sum is cast back to cents before a ratio or a ranking uses it."""
    items = [("O1", "C1", "16.84"), ("O1", "C1", "34.91"), ("O2", "C2", "4.60")]
    covered = "insert into RETAIL_DB.GOLD_STAGE.BUILD_DATES values ('revenue', '2026-03-02')"

    def item_rows(rows: list[tuple[str, str, str]]) -> list[str]:
        return [
            "insert into RETAIL_DB.MODEL.FCT_ORDER_ITEMS values "
            f"('{order}', {n}, 'P1', '{customer}', 'web', '2026-03-02', 'CA', 1, {amount}, 0, {amount})"
            for n, (order, customer, amount) in enumerate(rows)
        ]

    kpis = [
        _stand_in([("", [covered, *item_rows(order)]), ("gold/daily_kpi.sql", [])], "GOLD_STAGE.DAILY_KPI")
        for order in (items, items[::-1])
    ]
    assert kpis[0] == kpis[1]
    assert {(row[1], row[-1]) for row in kpis[0]} == {("web", Decimal("28.18")), ("all", Decimal("28.18"))}

    # two customers with the same spend (0.60) from purchases noted in opposite orders: the same score
    purchases = [("A", "0.10"), ("A", "0.20"), ("A", "0.30"), ("B", "0.30"), ("B", "0.20"), ("B", "0.10")]
    deltas = [
        "insert into RETAIL_DB.MODEL.PENDING_CUSTOMER_ACTIVITY values "
        f"('{customer}', '2026-03-02', 1, 1, 0, {amount}, 1, 0, 0, 0, 0, 0, 0)"
        for customer, amount in purchases
    ]
    order = [
        "insert into RETAIL_DB.MODEL.FCT_ORDERS values ('O1', 'A', 'web', 'delivered', '2026-03-02', "
        "'2026-03-02 10:00:00', '2026-03-02 10:00:00', 'CA', 1, 1, 1, 0, 1)"
    ]  # the as-of date is the latest sale date
    publish = [  # what gold/publish.sql copies for the customer view (its other tables are not built here)
        "insert into RETAIL_DB.GOLD.CUSTOMER_AS_OF select * from RETAIL_DB.GOLD_STAGE.CUSTOMER_AS_OF",
        "insert into RETAIL_DB.GOLD.CUSTOMER_RFM_BASE select * from RETAIL_DB.GOLD_STAGE.CUSTOMER_RFM_BASE",
    ]
    rfm = _stand_in(
        [
            ("", deltas + order),
            ("model/customer_activity.sql", []),
            ("gold/customer_changes.sql", []),
            ("gold/customer_rfm.sql", []),
            ("", publish),
        ],
        "GOLD.CUSTOMER_RFM",
    )
    assert [(row[0], row[4], row[7]) for row in rfm] == [("A", Decimal("0.60"), 1), ("B", Decimal("0.60"), 1)]


def test_the_identity_proof_leaves_out_the_steps_work_tables() -> None:
    """A step's work table holds what its last run found changed, so it depends on the run order."""
    from local.identity import WORK_TABLES

    work = {t for tables in OWN_TABLES.values() for t in tables if t.endswith("_changes")}
    assert work == {f"retail_db.{t}".lower() for t in WORK_TABLES}
