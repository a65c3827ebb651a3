"""Trigger for the deferrable partner-file sensor: runs in the triggerer, costs no worker slot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

# The sensor looked once just before deferring, so the trigger's first look can wait. It must:
# an event fired seconds after the deferral can reach the scheduler before the executor has
# reported the deferred try's exit, and Airflow 3.3 then fails the task as "changed externally"
# (apache/airflow#67287, #72716; seen on this stack). A first look after this grace avoids it.
FIRST_LOOK_AFTER_SECONDS = 15.0


class PartnerFileTrigger(BaseTrigger):
    """Fires when *any* of ``keys`` exists in ``bucket`` (the inbox file, or its archived copy).

    The provider's ``S3KeyTrigger`` waits for *all* of its keys, so it cannot express "in the inbox
    or already in history"; this uses the same async S3 hook underneath.
    """

    def __init__(self, *, bucket: str, keys: list[str], aws_conn_id: str | None, poke_interval: float) -> None:
        super().__init__()
        if not keys:
            raise ValueError("PartnerFileTrigger needs at least one key to wait for")
        self.bucket = bucket
        self.keys = list(keys)
        self.aws_conn_id = aws_conn_id
        self.poke_interval = poke_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "bucket": self.bucket,
                "keys": self.keys,
                "aws_conn_id": self.aws_conn_id,
                "poke_interval": self.poke_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        hook = S3Hook(aws_conn_id=self.aws_conn_id)
        try:
            await asyncio.sleep(max(self.poke_interval, FIRST_LOOK_AFTER_SECONDS))
            async with await hook.get_async_conn() as client:
                while True:
                    for key in self.keys:
                        if await hook.get_head_object_async(client, key, self.bucket):
                            yield TriggerEvent({"status": "found", "key": key})
                            return
                    self.log.info("none of %s yet; looking again in %ss", self.keys, self.poke_interval)
                    await asyncio.sleep(self.poke_interval)
        except Exception as exc:  # the sensor turns this into a task failure (and a retry)
            yield TriggerEvent({"status": "error", "message": f"{type(exc).__name__}: {exc}"})
