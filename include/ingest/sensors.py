"""Sensor for a partner file that may sit in the inbox or, on a re-run, already in history."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor

from include.airflow_common import business_date
from include.config import LANDING
from include.ingest.pipeline import candidate_keys


class PartnerFileSensor(S3KeySensor):
    """Waits for a feed's file for the run's business date in the inbox *or* in history.

    The provider's S3KeySensor waits for all of its keys; this one succeeds when any exists, so
    a re-run of a date whose file was already archived does not wait for a new delivery. The keys
    come from the same layout the load and archive steps use.
    """

    def __init__(self, *, feed: str, **kwargs: Any) -> None:
        super().__init__(bucket_name=LANDING.bucket, bucket_key=[], **kwargs)
        self.feed = feed

    def poke(self, context: Any) -> bool:
        keys = candidate_keys(self.feed, business_date(context))
        self.log.info("looking for %s", " or ".join(keys))
        return any(self._check_key(key, context=context) for key in keys)
