"""The partner-file sensor starts in the triggerer: the keys it waits for follow from the run's
business date, and a found file ends the task there, with no task process."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from airflow.triggers.base import TaskSuccessEvent

from include.config import LANDING
from include.ingest.pipeline import candidate_keys
from include.ingest.sensors import PartnerFileSensor
from include.ingest.triggers import PartnerFileTrigger


def _context(logical: datetime | None, param: str | None = None, run_type: str = "backfill") -> dict:
    run = SimpleNamespace(run_after=datetime(2026, 3, 5, 1, tzinfo=UTC), run_type=run_type)
    return {"params": {"business_date": param}, "logical_date": logical, "dag_run": run}


def _started_from_trigger(feed: str = "orders") -> PartnerFileTrigger:
    """The trigger as the triggerer builds it from the sensor's start arguments."""
    sensor = PartnerFileSensor(
        task_id="wait_for_file", feed=feed, aws_conn_id="aws_default", poke_interval=1, timeout=60
    )
    assert sensor.start_from_trigger, "the file sensor must start in the triggerer, without a task process"
    args = sensor.start_trigger_args
    assert args.trigger_cls == f"{PartnerFileTrigger.__module__}.{PartnerFileTrigger.__qualname__}"
    assert args.timeout.total_seconds() == 60 and args.next_method == "execute_complete"
    return PartnerFileTrigger(**args.trigger_kwargs)


def test_the_triggerer_renders_the_keys_of_the_runs_business_date() -> None:
    trigger = _started_from_trigger()
    assert trigger.keys == []  # not known before the run's context
    trigger.render_template_fields(_context(datetime(2026, 3, 4, tzinfo=UTC)))
    assert trigger.keys == candidate_keys("orders", date(2026, 3, 4))
    assert trigger.keys[0].startswith(f"{LANDING.inbox}/") and "year=2026/month=03/day=04" in trigger.keys[1]

    manual = _started_from_trigger()
    manual.render_template_fields(_context(None, param="2026-02-27", run_type="manual"))
    assert manual.keys == candidate_keys("orders", date(2026, 2, 27))


class FakeAsyncS3:
    def __init__(self, present: set[str], fail: bool = False) -> None:
        self.present, self.fail, self.looks = present, fail, 0

    async def get_async_conn(self):
        @asynccontextmanager
        async def client():
            yield object()

        return client()

    async def get_head_object_async(self, client, key: str, bucket: str):
        self.looks += 1
        if self.fail:
            raise ConnectionError("S3 unreachable")
        return {"ETag": "x"} if key in self.present else None


def _events(trigger: PartnerFileTrigger, s3: FakeAsyncS3, monkeypatch) -> list:
    import airflow.providers.amazon.aws.hooks.s3 as s3_hooks

    monkeypatch.setattr(s3_hooks, "S3Hook", lambda **kw: s3)

    async def collect() -> list:
        return [event async for event in trigger.run()]

    return asyncio.run(asyncio.wait_for(collect(), timeout=10))


def test_a_file_already_in_history_ends_the_task_in_the_triggerer(monkeypatch) -> None:
    trigger = _started_from_trigger("stores")
    trigger.render_template_fields(_context(datetime(2026, 3, 4, tzinfo=UTC)))
    s3 = FakeAsyncS3(present={trigger.keys[1]})  # a re-run: the file was archived already
    (event,) = _events(trigger, s3, monkeypatch)
    assert isinstance(event, TaskSuccessEvent) and s3.looks == 2


def test_a_file_that_arrives_later_is_found_on_a_later_look(monkeypatch) -> None:
    trigger = _started_from_trigger()
    trigger.render_template_fields(_context(datetime(2026, 3, 4, tzinfo=UTC)))
    s3 = FakeAsyncS3(present=set())
    original = s3.get_head_object_async

    async def arrives_on_third_look(client, key, bucket):
        if s3.looks == 4:
            s3.present.add(trigger.keys[0])
        return await original(client, key, bucket)

    s3.get_head_object_async = arrives_on_third_look
    (event,) = _events(trigger, s3, monkeypatch)
    assert isinstance(event, TaskSuccessEvent) and s3.looks == 5


@pytest.mark.parametrize("rendered", [True, False])
def test_an_unreachable_s3_or_a_missing_context_resumes_the_sensor_to_fail(monkeypatch, rendered) -> None:
    trigger = _started_from_trigger()
    if rendered:
        trigger.render_template_fields(_context(datetime(2026, 3, 4, tzinfo=UTC)))
    (event,) = _events(trigger, FakeAsyncS3(present=set(), fail=True), monkeypatch)
    assert not isinstance(event, TaskSuccessEvent) and event.payload["status"] == "error"
    reason = "ConnectionError: S3 unreachable" if rendered else "no keys to look for"
    assert reason in event.payload["message"]
    sensor = PartnerFileSensor(task_id="w", feed="orders", aws_conn_id=None, poke_interval=1, timeout=60)
    with pytest.raises(Exception, match="waiting for the orders file failed"):
        sensor.execute_complete({}, event.payload)
