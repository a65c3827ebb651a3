"""Sensor for a partner file that may sit in the inbox or, on a re-run, already in history."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor


class PartnerFileSensor(S3KeySensor):
    """S3KeySensor that succeeds when *any* of its keys exists (the provider's waits for all).

    ``bucket_key`` lists the inbox key first and the archived history key second, so a re-run
    of a date whose file was already archived does not wait for a new delivery.
    """

    def poke(self, context: Any) -> bool:
        keys = [self.bucket_key] if isinstance(self.bucket_key, str) else list(self.bucket_key)
        return any(self._check_key(key, context=context) for key in keys)
