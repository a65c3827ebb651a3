"""Months of partner history in a warehouse in minutes: for the churn model's evaluation and tests.

Loading a year through the daily DAG would take hours on a laptop (one Airflow run per date), so
this puts every simulated file's rows into BRONZE exactly as ``load_feed`` would (same text,
same lineage columns) and then runs the pipeline's own SILVER and MODEL SQL once over the whole
range. Files, validation, S3 and Airflow are skipped: they are tested elsewhere. It runs against
the in-process Snowflake stand-in (``in_process_warehouse``), never against a real account.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv

from include.config import WAREHOUSE
from include.contracts import FEED_NAMES, load_contract
from include.simulator.generator import FeedSimulator
from include.simulator.reference import load_reference
from include.simulator.run import to_csv
from include.sql_render import render_sql, statements, table_statements
from include.transform import layers
from include.transform.window import Window


class InProcessHook:
    """The one thing the pipeline's runners need from SnowflakeHook: ``get_conn()``."""

    def get_conn(self) -> Any:
        import snowflake.connector

        from include.warehouse import session_parameters

        # with a database, as the pipeline's connection has (the stand-in's helper macros live
        # there), and the platform's session parameters, as every pipeline connection has
        return snowflake.connector.connect(
            account="local",
            user="local",
            password="local",  # noqa: S106  # pragma: allowlist secret - the in-process stand-in ignores it
            database=WAREHOUSE.database,
            schema=WAREHOUSE.bronze,
            session_parameters=session_parameters(),
        )


@contextmanager
def in_process_warehouse() -> Iterator[InProcessHook]:
    """An empty warehouse with every pipeline table, in this process (fakesnow over DuckDB)."""
    import tempfile
    from pathlib import Path

    import fakesnow

    from local import (
        fakesnow_account,
        fakesnow_snowflake,
        fakesnow_stage_files,
        fakesnow_wide_copy,  # noqa: F401 - COPY of the ML tables' wide files
    )

    fakesnow_snowflake.apply()  # Snowflake's behaviour where the platform relies on it
    fakesnow_account.apply()  # roles and grants (this process's sessions are an account administrator's)

    with (
        tempfile.TemporaryDirectory(prefix="rct-stage-") as stage_files,
        fakesnow_stage_files.kept_in(Path(stage_files)),
        fakesnow.patch(),
    ):
        hook = InProcessHook()
        conn = hook.get_conn()
        cur = conn.cursor()
        for statement in table_statements():  # no stage in-process: the history's rows are inserted directly
            cur.execute(statement)
        conn.close()
        yield hook


@contextmanager
def in_process_account(stage_mode: str = "put") -> Iterator[Any]:
    """A warehouse set up as on a first deploy, in this process: the admin script as an account
    administrator, the set-up's SQL as the owner role through the deploy user, the roles and
    grants. Yields ``connect(user, role=None, **session)``, a connection of a service user as the
    local stand-in enforces it (local/fakesnow_account.py)."""
    import dataclasses
    import tempfile
    from pathlib import Path

    import fakesnow
    import snowflake.connector

    from include.config import USERS
    from include.sql_render import BOOTSTRAP_STEPS
    from include.warehouse import session_parameters
    from local import (
        fakesnow_account,
        fakesnow_snowflake,
        fakesnow_stage_files,
        fakesnow_wide_copy,  # noqa: F401 - COPY of files with ten or more columns
    )

    fakesnow_snowflake.apply()
    fakesnow_account.apply()
    fakesnow_account.reset()
    wh = dataclasses.replace(WAREHOUSE, stage_mode=stage_mode)

    def connect(user: str, role: str | None = None, **session: Any) -> Any:
        params = {"role": role} if role else {}
        return snowflake.connector.connect(
            user=user, database=WAREHOUSE.database, schema=WAREHOUSE.bronze,
            session_parameters=session_parameters(**session), **params,
        )  # fmt: skip

    with (
        tempfile.TemporaryDirectory(prefix="rct-stage-") as stage_files,
        fakesnow_stage_files.kept_in(Path(stage_files)),
        fakesnow.patch(create_database_on_connect=False, create_schema_on_connect=False),
    ):
        admin = connect("local_admin").cursor()
        for statement in statements(render_sql("security/00_account_admin.sql", wh=wh)):
            admin.execute(statement)
        deploy = connect(USERS.deploy).cursor()
        for step in BOOTSTRAP_STEPS:
            for statement in statements(render_sql(f"bootstrap/{step}.sql", wh=wh)):
                deploy.execute(statement)
        for statement in statements(render_sql("security/roles_and_grants.sql", wh=wh)):
            admin.execute(statement)
        yield connect
    fakesnow_account.reset()


def _as_text(table: pa.Table) -> pa.Table:
    """The table as its CSV file would carry it: every column the text the partner wrote."""
    body = to_csv(table)
    names = table.column_names
    return pcsv.read_csv(
        io.BytesIO(body),
        convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=True),
    )


def _day_batches(
    start: date, end: date, scale: float, seed: int, feeds: tuple[str, ...]
) -> Iterator[tuple[str, pa.Table]]:
    """(feed, rows as text + lineage columns) for every feed and business date in [start, end]."""
    sim = FeedSimulator(load_reference(), seed, scale)
    contract = load_contract()
    day = start
    while day <= end:
        for feed, table in sim.day_tables(day).items():
            if feed not in feeds:
                continue
            text = _as_text(table)
            n = text.num_rows
            text = text.append_column("_source_file", pa.array([f"{feed}_{day:%Y%m%d}.csv"] * n))
            text = text.append_column("_source_line", pa.array(range(2, n + 2), pa.int64()))
            text = text.append_column("_batch_date", pa.array([day] * n, pa.date32()))
            yield feed, text.select([*contract.feed(feed).column_names, "_source_file", "_source_line", "_batch_date"])
        day += timedelta(days=1)


def load_bronze(
    hook: Any, start: date, end: date, *, scale: float, seed: int, feeds: tuple[str, ...] = FEED_NAMES
) -> dict[str, int]:
    """The feeds' rows for business dates [start, end] into BRONZE (in-process stand-in only)."""
    conn = hook.get_conn()
    duck = conn._duck_conn  # bulk insert straight into the stand-in's DuckDB
    rows = dict.fromkeys(feeds, 0)
    for feed, text in _day_batches(start, end, scale, seed, feeds):
        columns = ", ".join(text.column_names)
        duck.register("history_batch", text)
        target = f"{WAREHOUSE.database}.{WAREHOUSE.bronze}.{load_contract().feed(feed).table}"
        duck.execute(f"insert into {target} ({columns}) select {columns} from history_batch")  # noqa: S608
        duck.unregister("history_batch")
        rows[feed] += text.num_rows
    conn.close()
    _register_partitions(hook, start, end, feeds)
    return rows


def _register_partitions(hook: Any, start: date, end: date, feeds: tuple[str, ...]) -> None:
    """The loaded partitions in the change-tracking ledger, as load_bronze records them: pending."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        for statement in statements(render_sql("bronze/register_history_partitions.sql", feeds=feeds, days=days)):
            cur.execute(statement)
    finally:
        conn.close()


def load_bronze_through_stage(
    hook: Any, start: date, end: date, *, scale: float, seed: int, feeds: tuple[str, ...] = FEED_NAMES
) -> dict[str, int]:
    """The same rows into a warehouse behind a connection (the local stack's server): one CSV per
    feed with the lineage columns, PUT into the internal stage, one COPY per feed."""
    import tempfile

    batches: dict[str, list[pa.Table]] = {feed: [] for feed in feeds}
    for feed, text in _day_batches(start, end, scale, seed, feeds):
        batches[feed].append(text)
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        with tempfile.TemporaryDirectory() as tmp:
            for feed, tables in batches.items():
                path = f"{tmp}/history_{feed}.csv"
                pcsv.write_csv(pa.concat_tables(tables), path)
                cur.execute(
                    f"put 'file://{path}' {WAREHOUSE.stage_ref}/history/ auto_compress = false overwrite = true"
                )
                cur.execute(
                    render_sql(
                        "bronze/load_history.sql",
                        feed=load_contract().feed(feed),
                        staged_path=f"history/history_{feed}.csv",
                    )
                )
    finally:
        conn.close()
    _register_partitions(hook, start, end, feeds)
    return {feed: sum(t.num_rows for t in tables) for feed, tables in batches.items()}


def build_model(hook: Any, start: date, end: date, *, gold: bool = False) -> None:
    """SILVER and MODEL (and, with ``gold``, GOLD published) for every partition loaded since the
    last processing, with the pipeline's SQL in the daily run's order (gates are not evaluated).
    Without ``gold``, the history's dates are not in GOLD, as on a platform whose GOLD starts after
    them; the customer aggregates cover them either way."""
    layers.process_changes(hook, f"history {start}..{end}", Window(end, end), gold=gold)


# what the churn features and labels read (inventory and the daily product catalogue are not)
ML_FEEDS = ("customers", "stores", "orders", "order_items", "payments", "store_sales")


def load_history(
    hook: Any, start: date, end: date, *, scale: float, seed: int, feeds: tuple[str, ...] = ML_FEEDS
) -> dict[str, int]:
    rows = load_bronze(hook, start, end, scale=scale, seed=seed, feeds=feeds)
    build_model(hook, start, end)
    return rows
