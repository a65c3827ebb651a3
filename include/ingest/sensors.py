"""Sensor for a partner file that may sit in the inbox or, on a re-run, already in history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException, AirflowSkipException
from airflow.triggers.base import StartTriggerArgs

from include import business_date
from include.config import LANDING
from include.ingest.pipeline import candidate_keys


class PartnerFileSensor(BaseSensorOperator):
    """Waits for a feed's file for the run's business date in the inbox *or* in history.

    Deferrable (the default), it starts in the triggerer (``start_from_trigger``): the scheduler
    hands it to :class:`~include.ingest.triggers.PartnerFileTrigger` without a worker process, the
    trigger looks at once and then every ``poke_interval``, and a found file ends the task there.
    A day's eight sensors cost no task process (each cost about 2 s of a worker slot on the local
    stack when it started on a worker, even with the file already there). A trigger error resumes
    the sensor on a worker, which fails it (and it retries); ``timeout`` fails it as a sensor
    timeout, with no retry. With ``deferrable=False`` it pokes like any sensor (``mode``). The keys
    come from the same layout the load and archive steps use.
    """

    template_fields = ()
    ui_color = "#e6f1f2"

    def __init__(self, *, feed: str, aws_conn_id: str | None, deferrable: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feed = feed
        self.aws_conn_id = aws_conn_id
        self.deferrable = deferrable
        if deferrable:
            self.start_from_trigger = True
            self.start_trigger_args = StartTriggerArgs(
                trigger_cls="include.ingest.triggers.PartnerFileTrigger",
                trigger_kwargs={
                    "bucket": LANDING.bucket,
                    "feed": feed,  # the keys follow from the run's business date, in the triggerer
                    "aws_conn_id": aws_conn_id,
                    "poke_interval": self.poke_interval,
                    "first_look_after_seconds": 0,
                    "end_task_when_found": True,
                },
                next_method="execute_complete",
                timeout=timedelta(seconds=self.timeout),
            )

    def _keys(self, context: Any) -> list[str]:
        return candidate_keys(self.feed, business_date.from_context(context))

    def _skip_before_the_feed_starts(self, context: Any) -> None:
        from include.contracts import load_contract

        day, feed = business_date.from_context(context), load_contract().feed(self.feed)
        if not feed.active_on(day):
            raise AirflowSkipException(f"{self.feed} files start on {feed.active_from} (active_from): none for {day}")

    def poke(self, context: Any) -> bool | Any:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        keys = self._keys(context)
        self.log.info("looking for %s", " or ".join(keys))
        hook = S3Hook(aws_conn_id=self.aws_conn_id)
        found = next((key for key in keys if hook.check_for_key(key, LANDING.bucket)), None)
        if found:
            self.log.info("found %s", found)
        return found is not None

    def execute(self, context: Any) -> None:
        self._skip_before_the_feed_starts(context)
        if not self.deferrable:
            super().execute(context)
            return
        if self.poke(context):
            return
        from include.ingest.triggers import FIRST_LOOK_AFTER_SECONDS, PartnerFileTrigger

        self.defer(
            trigger=PartnerFileTrigger(
                bucket=LANDING.bucket,
                keys=self._keys(context),
                aws_conn_id=self.aws_conn_id,
                poke_interval=self.poke_interval,
                first_look_after_seconds=max(self.poke_interval, FIRST_LOOK_AFTER_SECONDS),
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Any, event: dict[str, Any]) -> None:
        if event.get("status") != "found":
            raise AirflowException(f"waiting for the {self.feed} file failed: {event.get('message', event)}")
        self.log.info("found %s", event["key"])
