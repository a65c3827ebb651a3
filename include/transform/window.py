"""A daily run's business date and the range its ``lookback_days`` forces into its change set.

A run transforms what changed since the last publication (audit/plan_change_set.sql); the window
only names its business date (``end``) and, with ``lookback_days`` above 0, the partitions it
re-processes whether they changed or not (``start`` .. ``end``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from include import business_date


@dataclass(frozen=True)
class Window:
    """[start, end] inclusive; ``end`` is the run's business date. Rendered into SQL as ISO dates."""

    start: date
    end: date

    @classmethod
    def for_run(cls, business_date: date, lookback_days: int) -> Window:
        if not 0 <= lookback_days <= 3660:
            raise ValueError(f"lookback_days must be between 0 and 3660, got {lookback_days}")
        return cls(business_date - timedelta(days=lookback_days), business_date)

    @classmethod
    def for_context(cls, context: Any) -> Window:
        """The window of the running task's DAG run: its business date and ``lookback_days`` param."""
        from include import run_params

        return cls.for_run(business_date.from_context(context), run_params.lookback_days(context["params"]))

    @property
    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    @property
    def after_end(self) -> date:
        return self.end + timedelta(days=1)

    @property
    def start_month(self) -> date:
        return self.start.replace(day=1)

    @property
    def after_end_month(self) -> date:
        first = self.end.replace(day=1)
        return (first + timedelta(days=32)).replace(day=1)

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"
