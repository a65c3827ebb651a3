"""A partner's backslashes reach GOLD as the partner wrote them (in-process, end to end).

A day's files, with product categories that hold a backslash, a backslash before a ``t`` and a
trailing backslash, go through the contract validation (which writes the accepted rows with
Python's csv module), are PUT into the stage and loaded with the pipeline's own COPY
(bronze/load_feed.sql) through the set-up's file format, then SILVER, MODEL and GOLD are built with
the daily run's SQL. The stand-in reads unenclosed fields as Snowflake does with its default
ESCAPE_UNENCLOSED_FIELD (a backslash): with the file format before 2026-12-06 the first value
became ``Home<tab>Garden``-style text and the trailing backslash swallowed a delimiter, so the COPY
failed; the test runs that format too and expects the failure, so it shows what it guards.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from snowflake.connector.errors import ProgrammingError

from include.config import MAX_REJECT_SHARE, WAREHOUSE
from include.contracts import FEED_NAMES, load_contract
from include.ingest.validation import expected_file_name, validate_file
from include.simulator.generator import FeedSimulator
from include.simulator.reference import load_reference
from include.simulator.run import to_csv
from include.sql_render import render_sql, statements

DAY = date(2026, 4, 6)
HOSTILE = ["Home\\Garden", "Kids\\tToys", "Tools\\"]  # a backslash, "\t" as two characters, a trailing one
PUT_MODE = dataclasses.replace(WAREHOUSE, stage_mode="put")
OLD_FORMAT = (
    f"create or replace file format {WAREHOUSE.qualified(WAREHOUSE.bronze, WAREHOUSE.file_format)} "
    "type = csv skip_header = 1 field_optionally_enclosed_by = '\"' empty_field_as_null = true"
)


class _Hook:
    def __init__(self, connect: Any) -> None:
        self._connect = connect

    def get_conn(self) -> Any:
        return self._connect("local_admin")


def _files() -> dict[str, bytes]:
    """The day's partner files, every product in one of the hostile categories."""
    tables = FeedSimulator(load_reference(), 11, 0.05).day_tables(DAY)
    files = {feed: to_csv(table) for feed, table in tables.items()}
    rows = list(csv.reader(io.StringIO(files["products"].decode())))
    at = rows[0].index("category")
    for k, row in enumerate(rows[1:]):
        row[at] = HOSTILE[k % len(HOSTILE)]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    files["products"] = out.getvalue().encode()
    return files


def _load(hook: Any, files: dict[str, bytes], tmp: Path) -> None:
    """Each feed as load_bronze loads it: validated, PUT into the stage, COPied by load_feed.sql."""
    conn = hook.get_conn()
    cur = conn.cursor()
    for feed in FEED_NAMES:
        if feed not in files:
            continue
        name = expected_file_name(feed, DAY)
        result = validate_file(files[feed], name, feed, DAY, MAX_REJECT_SHARE)
        assert not result.rejects, result.rejects[:3]
        local = tmp / name
        local.write_bytes(result.accepted_csv)
        folder = f"{feed}/{DAY:%Y%m%d}"
        cur.execute(f"put 'file://{local}' {PUT_MODE.stage_ref}/{folder}/ auto_compress = false overwrite = true")
        sql = render_sql(
            "bronze/load_feed.sql",
            feed=load_contract().feed(feed),
            batch_date=DAY,
            staged_path=f"{folder}/{name}",
            rejects_path=None,
        )
        for statement in statements(sql):
            cur.execute(statement, {"run_id": "escapes"} if "%(run_id)s" in statement else None)
    conn.close()


def test_backslashes_in_partner_values_reach_gold_as_written() -> None:
    from include.transform import layers
    from include.transform.window import Window
    from local.history import in_process_account

    files = _files()
    with in_process_account() as connect, tempfile.TemporaryDirectory() as tmp:
        hook = _Hook(connect)
        _load(hook, files, Path(tmp))
        layers.process_changes(hook, "escapes", Window(DAY, DAY), gold=True)
        conn = hook.get_conn()
        cur = conn.cursor()
        cur.execute(f"select distinct category from {WAREHOUSE.qualified(WAREHOUSE.silver, 'PRODUCTS')}")
        assert sorted(r[0] for r in cur.fetchall()) == sorted(HOSTILE)
        cur.execute(f"select distinct category from {WAREHOUSE.qualified(WAREHOUSE.gold, 'DAILY_REVENUE')}")
        assert set(HOSTILE) <= {r[0] for r in cur.fetchall()}, "GOLD's categories are the partner's text"
        conn.close()


def test_with_snowflakes_default_escape_the_same_file_does_not_load() -> None:
    """The file format as it was: ESCAPE_UNENCLOSED_FIELD left at its default, a backslash."""
    from local.history import in_process_account

    files = {"products": _files()["products"]}
    with in_process_account() as connect, tempfile.TemporaryDirectory() as tmp:
        connect("local_admin").cursor().execute(OLD_FORMAT)
        with pytest.raises(ProgrammingError, match="Number of columns in file"):
            _load(_Hook(connect), files, Path(tmp))
