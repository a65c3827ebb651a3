"""A feed with a start date (``active_from`` in the contract): before it, no sensor waits for its
file, no alert calls it missing, and a date is complete without it."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowSkipException
from airflow.triggers.base import TaskSkippedEvent

import include.contracts as contracts
from include.ingest.sensors import PartnerFileSensor
from include.ingest.triggers import PartnerFileTrigger
from include.sql_render import render_sql, statements, table_statements
from include.transform.window import Window

STARTS = date(2026, 3, 2)
LATE_FEED = "inventory_snapshots"


@pytest.fixture
def late_feed(monkeypatch) -> contracts.Contract:
    """The real contract, with one feed whose files start on STARTS."""
    real = contracts.load_contract()
    feeds = dict(real.feeds)
    feeds[LATE_FEED] = dataclasses.replace(feeds[LATE_FEED], active_from=STARTS)
    contract = dataclasses.replace(real, feeds=feeds)
    monkeypatch.setattr(contracts, "load_contract", lambda *a, **k: contract)
    return contract


def _context(day: date) -> dict:
    run = SimpleNamespace(run_after=datetime(2026, 3, 5, 1, tzinfo=UTC), run_type="backfill")
    return {
        "params": {"business_date": None},
        "logical_date": datetime.combine(day, datetime.min.time(), UTC),
        "dag_run": run,
    }


def test_the_contract_reads_the_start_date(tmp_path: Path) -> None:
    text = contracts.CONTRACT_PATH.read_text().replace(
        f"  {LATE_FEED}:\n", f"  {LATE_FEED}:\n    active_from: 2026-03-02\n", 1
    )
    assert text != contracts.CONTRACT_PATH.read_text()
    path = tmp_path / "feeds.yaml"
    path.write_text(text)
    feed = contracts.load_contract(path).feed(LATE_FEED)
    assert feed.active_from == STARTS and not feed.active_on(date(2026, 3, 1)) and feed.active_on(STARTS)


def test_before_its_start_the_sensor_skips_and_after_it_waits(late_feed) -> None:
    assert LATE_FEED not in contracts.active_feeds(date(2026, 3, 1))
    assert LATE_FEED in contracts.active_feeds(STARTS)
    sensor = PartnerFileSensor(task_id="w", feed=LATE_FEED, aws_conn_id=None, poke_interval=1, timeout=60)
    with pytest.raises(AirflowSkipException, match="start on 2026-03-02"):
        sensor.execute(_context(date(2026, 3, 1)))
    sensor._skip_before_the_feed_starts(_context(STARTS))  # on and after it: no skip, the sensor waits


def test_before_its_start_the_trigger_ends_the_task_as_skipped(late_feed, monkeypatch) -> None:
    import airflow.providers.amazon.aws.hooks.s3 as s3_hooks

    def no_s3(**kwargs):
        raise AssertionError("a skipped feed must not look in S3")

    monkeypatch.setattr(s3_hooks, "S3Hook", no_s3)
    sensor = PartnerFileSensor(task_id="w", feed=LATE_FEED, aws_conn_id="aws_default", poke_interval=1, timeout=60)
    trigger = PartnerFileTrigger(**sensor.start_trigger_args.trigger_kwargs)
    trigger.render_template_fields(_context(date(2026, 3, 1)))

    async def collect() -> list:
        return [event async for event in trigger.run()]

    (event,) = asyncio.run(asyncio.wait_for(collect(), timeout=10))
    assert isinstance(event, TaskSkippedEvent)


def _completeness(contract: contracts.Contract, loads: dict[date, list[str]]) -> dict[date, tuple]:
    """GOLD_STAGE.DATE_COMPLETENESS built on the stand-in from FILE_LOADS rows."""
    import fakesnow
    import snowflake.connector

    with fakesnow.patch():
        cur = snowflake.connector.connect().cursor()
        for statement in table_statements():
            cur.execute(statement)
        for day in loads:
            cur.execute(f"insert into RETAIL_DB.GOLD_STAGE.BUILD_DATES values ('completeness', '{day}')")
        for day, feeds in loads.items():
            for feed in feeds:
                cur.execute(
                    "insert into RETAIL_DB.AUDIT.FILE_LOADS (feed, batch_date, file_name, file_md5, status) "
                    f"values ('{feed}', '{day}', '{feed}_{day}.csv', 'md5', 'LOADED')"
                )
        sql = render_sql("gold/date_completeness.sql", window=Window(min(loads), max(loads)), contract=contract)
        for statement in statements(sql):
            cur.execute(statement)
        cur.execute(
            "select business_date, status, feeds_loaded, feeds_expected, missing_feeds "
            "from RETAIL_DB.GOLD_STAGE.DATE_COMPLETENESS"
        )
        return {row[0]: row[1:] for row in cur.fetchall()}


def test_a_date_before_the_feed_starts_is_complete_without_it(late_feed) -> None:
    everything = list(late_feed.feeds)
    others = [f for f in everything if f != LATE_FEED]
    n = len(everything)
    rows = _completeness(
        late_feed,
        {date(2026, 2, 28): others, date(2026, 3, 1): others, STARTS: others, date(2026, 3, 3): everything},
    )
    assert rows[date(2026, 2, 28)] == ("complete", n - 1, n - 1, None)
    # the day before the first file: complete once the next day's feeds, the new one included, are in
    assert rows[date(2026, 3, 1)] == ("provisional", n - 1, n - 1, None)  # 2 March lacks its new feed
    assert rows[STARTS] == ("partial", n - 1, n, LATE_FEED)
    assert rows[date(2026, 3, 3)][:3] == ("provisional", n, n)

    # without a start date, the same loads leave every date partial, the new feed missing
    always = dataclasses.replace(
        late_feed,
        feeds={**late_feed.feeds, LATE_FEED: dataclasses.replace(late_feed.feeds[LATE_FEED], active_from=None)},
    )
    rows = _completeness(always, {date(2026, 3, 1): others, STARTS: everything})
    assert rows[date(2026, 3, 1)] == ("partial", n - 1, n, LATE_FEED)
