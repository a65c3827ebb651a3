"""One meaning of "the date": the business date rule for every kind of run."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from include import business_date


def _context(run_type: str, logical: datetime | None, param: str | None = None, run_after: datetime | None = None):
    run = SimpleNamespace(run_type=run_type, run_after=run_after or logical)
    return {"params": {"business_date": param}, "logical_date": logical, "dag_run": run}


def test_scheduled_and_backfill_runs_process_their_logical_date() -> None:
    # a scheduled run for 2026-11-08 starts at 2026-11-09 00:00; its logical date is the 8th
    scheduled = _context("scheduled", datetime(2026, 11, 8, tzinfo=UTC), run_after=datetime(2026, 11, 9, tzinfo=UTC))
    assert business_date.from_context(scheduled) == date(2026, 11, 8)
    # `backfill create --from-date 2026-11-08` makes the run with logical date 2026-11-08
    assert business_date.from_context(_context("backfill", datetime(2026, 11, 8, tzinfo=UTC))) == date(2026, 11, 8)


def test_a_manual_run_processes_the_date_the_operator_names() -> None:
    # the trigger form's logical date 2026-11-09 (Airflow's data interval for it is the 8th)
    typed = _context("manual", datetime(2026, 11, 9, tzinfo=UTC), run_after=datetime(2026, 11, 22, 9, tzinfo=UTC))
    assert business_date.from_context(typed) == date(2026, 11, 9)
    # the business_date param wins over the logical date
    chosen = _context("manual", datetime(2026, 11, 22, 9, tzinfo=UTC), param="2026-11-03")
    assert business_date.from_context(chosen) == date(2026, 11, 3)
    # "run now" without a logical date: the last complete day
    now = _context("manual", None, run_after=datetime(2026, 11, 22, 9, 30, tzinfo=UTC))
    assert business_date.from_context(now) == date(2026, 11, 21)


def test_the_param_is_refused_where_it_would_be_wrong() -> None:
    with pytest.raises(business_date.InvalidBusinessDate, match="single manual runs"):
        business_date.from_context(_context("backfill", datetime(2026, 11, 8, tzinfo=UTC), param="2026-11-01"))
    for bad in ("2026-02-30", "20261108", "2026-11-08'; drop table x; --", "../2026-11-08"):
        with pytest.raises(business_date.InvalidBusinessDate):
            business_date.from_context(_context("manual", None, param=bad, run_after=datetime(2026, 11, 9, tzinfo=UTC)))


def test_a_run_as_the_rest_api_lists_it() -> None:
    run = {
        "run_type": "manual",
        "logical_date": "2026-11-09T00:00:00Z",
        "run_after": "2026-11-22T08:00:00Z",
        "data_interval_start": "2026-11-08T00:00:00Z",
        "conf": {},
    }
    assert business_date.of_run(run) == date(2026, 11, 9)
    assert business_date.of_run({**run, "conf": {"business_date": "2026-10-01"}}) == date(2026, 10, 1)
    assert business_date.of_run({**run, "logical_date": None}) == date(2026, 11, 21)
