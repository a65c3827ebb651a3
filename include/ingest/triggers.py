"""Trigger for the deferrable partner-file sensor: runs in the triggerer, costs no worker slot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TaskSkippedEvent, TaskSuccessEvent, TriggerEvent

# A sensor that looked once on a worker and then deferred must not have its trigger look again at
# once: an event fired seconds after the deferral can reach the scheduler before the executor has
# reported the deferred try's exit, and Airflow 3.3 then fails the task as "changed externally"
# (apache/airflow#67287, #72716; seen on this stack). A first look after this grace avoids it. A
# sensor that starts in the triggerer (no worker try) looks at once.
FIRST_LOOK_AFTER_SECONDS = 15.0


class PartnerFileTrigger(BaseTrigger):
    """Fires when *any* of ``keys`` exists in ``bucket`` (the inbox file, or its archived copy).

    The provider's ``S3KeyTrigger`` waits for *all* of its keys, so it cannot express "in the inbox
    or already in history"; this uses the same async S3 hook underneath.

    Two ways in:
    - deferred by :class:`~include.ingest.sensors.PartnerFileSensor` after its own first look:
      ``keys`` are known, the event resumes the sensor on a worker;
    - started in the triggerer (``start_from_trigger``, no worker process at all): only ``feed``
      is known; the keys follow from the run's business date when the triggerer renders the
      trigger with the run's context, and a found file ends the task as a success right here.
    """

    def __init__(
        self,
        *,
        bucket: str,
        aws_conn_id: str | None,
        poke_interval: float,
        keys: list[str] | None = None,
        feed: str | None = None,
        first_look_after_seconds: float = FIRST_LOOK_AFTER_SECONDS,
        end_task_when_found: bool = False,
    ) -> None:
        super().__init__()
        if not keys and not feed:
            raise ValueError("PartnerFileTrigger needs the keys to wait for, or the feed to derive them from")
        self.bucket = bucket
        self.keys = list(keys or [])
        self.feed = feed
        self.aws_conn_id = aws_conn_id
        self.poke_interval = poke_interval
        self.first_look_after_seconds = first_look_after_seconds
        self.end_task_when_found = end_task_when_found

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Called by the triggerer with the run's context when the task starts here."""
        super().render_template_fields(context, jinja_env)
        if not self.keys and self.feed:
            from include import business_date
            from include.contracts import load_contract
            from include.ingest.pipeline import candidate_keys

            day = business_date.from_context(context)
            if not load_contract().feed(self.feed).active_on(day):
                self.skip = True  # before the feed's first file: nothing to wait for
            self.keys = candidate_keys(self.feed, day)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "bucket": self.bucket,
                "keys": self.keys,
                "feed": self.feed,
                "aws_conn_id": self.aws_conn_id,
                "poke_interval": self.poke_interval,
                "first_look_after_seconds": self.first_look_after_seconds,
                "end_task_when_found": self.end_task_when_found,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        if getattr(self, "skip", False):
            self.log.info("the %s feed has no file before its active_from date: skipped", self.feed)
            yield TaskSkippedEvent()
            return
        hook = S3Hook(aws_conn_id=self.aws_conn_id)
        try:
            if not self.keys:
                raise ValueError(f"no keys to look for: the {self.feed} trigger was not given the run's context")
            await asyncio.sleep(self.first_look_after_seconds)
            async with await hook.get_async_conn() as client:
                while True:
                    for key in self.keys:
                        if await hook.get_head_object_async(client, key, self.bucket):
                            self.log.info("found %s", key)
                            if self.end_task_when_found:
                                yield TaskSuccessEvent()
                            else:
                                yield TriggerEvent({"status": "found", "key": key})
                            return
                    self.log.info("none of %s yet; looking again in %ss", self.keys, self.poke_interval)
                    await asyncio.sleep(self.poke_interval)
        except Exception as exc:  # the sensor turns this into a task failure (and a retry)
            yield TriggerEvent({"status": "error", "message": f"{type(exc).__name__}: {exc}"})
