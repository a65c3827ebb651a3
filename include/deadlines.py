"""When a daily run is late: its business day ended ``DEADLINE_HOURS`` ago and it is not finished.

Airflow's built-in deadline references start from the logical date or the queue time of *every*
run, so a backfill of last month would page on-call for each date at once. This reference returns
the end of the business day (the data interval's end) for **scheduled** runs only; backfills and
manual runs get no deadline (an operator is watching them). It is registered by the plugin in
``plugins/retail_audit_listener.py`` so the scheduler can evaluate it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import BaseDeadlineReference, deadline_reference


@deadline_reference
class ScheduledBusinessDayEnd(BaseDeadlineReference):
    """End of a scheduled run's data interval; None (no deadline) for any other kind of run."""

    required_kwargs = {"dag_id", "run_id"}

    def _evaluate_with(self, *, session: Any, **kwargs: Any) -> datetime | None:
        from airflow.models import DagRun
        from sqlalchemy import select

        row = session.execute(
            select(DagRun.run_type, DagRun.data_interval_end).where(
                DagRun.dag_id == kwargs["dag_id"], DagRun.run_id == kwargs["run_id"]
            )
        ).one_or_none()
        if row is None or str(getattr(row.run_type, "value", row.run_type)) != "scheduled":
            return None
        return row.data_interval_end
