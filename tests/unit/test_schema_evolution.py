"""A partner adds a column before the contract has it (in-process, end to end).

Day 1: the orders file carries ``promo_code``, which contract version 1 does not have: the file
loads (nothing quarantined), each row's value kept in BRONZE ``_extra``. Then the column is
declared (contract version 2, ``since: 2``): the set-up's migration adds it to BRONZE and SILVER
of the existing warehouse and records it; a rebuild of day 1 gives SILVER the values kept in
``_extra``; day 2 loads it as a column; a partner still sending version 1 loads it empty.
"""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from include import contracts, migrations, sql_render
from include.config import MAX_REJECT_SHARE, WAREHOUSE
from include.ingest.validation import expected_file_name, validate_file
from include.simulator.generator import FeedSimulator
from include.simulator.reference import load_reference
from include.simulator.run import to_csv
from tests.unit.overlay import project
from tests.unit.test_partner_escapes import PUT_MODE, _Hook

DAY1, DAY2 = date(2026, 4, 6), date(2026, 4, 7)


def _version_2() -> str:
    text = contracts.CONTRACT_PATH.read_text()
    assert text.count("\nversion: 1\n") == 1
    text = text.replace("\nversion: 1\n", "\nversion: 2\n")
    anchor = "      - {name: shipping_state"
    at = text.index(anchor, text.index("\n  orders:\n"))
    end = text.index("\n", at) + 1
    return text[:end] + "      - {name: promo_code, type: string, nullable: true, since: 2}\n" + text[end:]


def _files(day: date, promo: bool) -> dict[str, bytes]:
    files = {feed: to_csv(t) for feed, t in FeedSimulator(load_reference(), 11, 0.05).day_tables(day).items()}
    if promo:
        rows = list(csv.reader(io.StringIO(files["orders"].decode())))
        rows = [rows[0] + ["promo_code"]] + [r + [f"P{k % 3}"] for k, r in enumerate(rows[1:])]
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        files["orders"] = out.getvalue().encode()
    return files


def _load(cur: Any, files: dict[str, bytes], day: date, tmp: Path) -> dict[str, list[str]]:
    """Each feed as load_bronze loads it; returns each feed's warnings."""
    warned = {}
    for feed, data in files.items():
        name = expected_file_name(feed, day)
        result = validate_file(data, name, feed, day, MAX_REJECT_SHARE)
        warned[feed] = result.warnings
        (tmp / name).write_bytes(result.accepted_csv)
        folder = f"{feed}/{day:%Y%m%d}"
        cur.execute(f"put 'file://{tmp / name}' {PUT_MODE.stage_ref}/{folder}/ auto_compress = false overwrite = true")
        sql = sql_render.render_sql(
            "bronze/load_feed.sql",
            feed=contracts.load_contract().feed(feed),
            batch_date=day,
            staged_path=f"{folder}/{name}",
            rejects_path=None,
        )
        for statement in sql_render.statements(sql):
            cur.execute(statement, {"run_id": "evolve"} if "%(run_id)s" in statement else None)
    return warned


def _promo_codes(cur: Any, layer: str, day: date) -> list[Any]:
    cur.execute(
        f"select promo_code from {WAREHOUSE.qualified(getattr(WAREHOUSE, layer), 'ORDERS')} where _batch_date = '{day}'"
    )
    return sorted({r[0] for r in cur.fetchall()}, key=str)


def test_a_column_the_partner_adds_reaches_silver_once_declared() -> None:
    from include.transform import layers
    from include.transform.window import Window
    from local.history import in_process_account

    with in_process_account() as connect, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        hook = _Hook(connect)
        day2_with, day2_without = _files(DAY2, promo=True)["orders"], _files(DAY2, promo=False)["orders"]
        cur = connect("local_admin").cursor()
        warned = _load(cur, _files(DAY1, promo=True), DAY1, folder)
        assert "kept in BRONZE._extra: ['promo_code']" in warned["orders"][0]
        layers.process_changes(hook, "day-1", Window(DAY1, DAY1), gold=True)
        bronze = WAREHOUSE.qualified(WAREHOUSE.bronze, "ORDERS")
        cur.execute(f"select distinct parse_json(_extra):promo_code::varchar from {bronze}")
        assert sorted(r[0] for r in cur.fetchall()) == ["P0", "P1", "P2"]

        with project(folder / "v2", contract=_version_2()):
            assert contracts.load_contract().feed("orders").column("promo_code").since == 2
            deploy = connect("RCT_DEPLOY_SVC").cursor()
            done = migrations.migrate(deploy, "setup-v2")
            assert done.statements == [
                f"alter table {WAREHOUSE.qualified(WAREHOUSE.bronze, 'ORDERS')} add column promo_code VARCHAR",
                f"alter table {WAREHOUSE.qualified(WAREHOUSE.silver, 'ORDERS')} add column promo_code VARCHAR",
            ]
            # day 1 rebuilt (lookback_days 1, the runbook's restatement): SILVER reads the values
            # BRONZE kept aside
            layers.process_changes(hook, "rebuild", Window(DAY1 - timedelta(days=1), DAY1), gold=True)
            assert _promo_codes(cur, "silver", DAY1) == ["P0", "P1", "P2"]
            # day 2 carries it as a column of the contract: no warning
            assert _load(cur, {"orders": day2_with}, DAY2, folder)["orders"] == []
            assert _promo_codes(cur, "bronze", DAY2) == ["P0", "P1", "P2"]
            # the partner re-delivers day 2 still on version 1: it loads, the column empty
            warned = _load(cur, {"orders": day2_without}, DAY2, folder)
            assert "absent, loaded empty: promo_code (version 2)" in warned["orders"][0]
            layers.process_changes(hook, "day-2", Window(DAY2, DAY2), gold=True)
            assert _promo_codes(cur, "silver", DAY2) == [None]
            assert _promo_codes(cur, "silver", DAY1) == ["P0", "P1", "P2"]
