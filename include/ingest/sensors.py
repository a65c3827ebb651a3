"""Sensor for a partner file that may sit in the inbox or, on a re-run, already in history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException

from include import business_date
from include.config import LANDING
from include.ingest.pipeline import candidate_keys


class PartnerFileSensor(BaseSensorOperator):
    """Waits for a feed's file for the run's business date in the inbox *or* in history.

    It looks once at once (a file already there costs no wait); otherwise, deferrable (the
    default), it hands the waiting to :class:`~include.ingest.triggers.PartnerFileTrigger` in the
    triggerer until ``timeout``; with ``deferrable=False`` it pokes like any sensor (``mode``).
    The keys come from the same layout the load and archive steps use.
    """

    template_fields = ()
    ui_color = "#e6f1f2"

    def __init__(self, *, feed: str, aws_conn_id: str | None, deferrable: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feed = feed
        self.aws_conn_id = aws_conn_id
        self.deferrable = deferrable

    def _keys(self, context: Any) -> list[str]:
        return candidate_keys(self.feed, business_date.from_context(context))

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
        if not self.deferrable:
            super().execute(context)
            return
        if self.poke(context):
            return
        from include.ingest.triggers import PartnerFileTrigger

        self.defer(
            trigger=PartnerFileTrigger(
                bucket=LANDING.bucket,
                keys=self._keys(context),
                aws_conn_id=self.aws_conn_id,
                poke_interval=self.poke_interval,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Any, event: dict[str, Any]) -> None:
        if event.get("status") != "found":
            raise AirflowException(f"waiting for the {self.feed} file failed: {event.get('message', event)}")
        self.log.info("found %s", event["key"])
