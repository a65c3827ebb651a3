"""The business date a run of a daily DAG processes: one rule, used by every task, SQL template,
alert, deadline and run-log row.

1. the run's ``business_date`` param (conf), when an operator set it in the trigger form for a
   single manual run (set on a backfill or scheduled run, it is refused: their dates are their
   own, and one date for a whole backfill range would process it several times);
2. otherwise the run's logical date: the data interval start of a scheduled run, the date a
   backfill names, or the logical date an operator typed into the trigger form;
3. otherwise (a manual run with no logical date: "run now") the last complete day before the
   run was created.

So "2026-11-08" means the same thing in a backfill from 2026-11-08, a scheduled run for that
day, and a manual run with logical date 2026-11-08 or ``business_date`` 2026-11-08.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

PARAM = "business_date"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class InvalidBusinessDate(ValueError):
    pass


def parse(value: Any) -> date | None:
    """A ``business_date`` param value: None/empty, or a real calendar date as YYYY-MM-DD."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    if not _ISO_DATE.fullmatch(text):
        raise InvalidBusinessDate(f"business_date must look like YYYY-MM-DD, got {text[:40]!r}")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidBusinessDate(f"business_date {text!r} is not a calendar date") from exc


def resolve(
    *, param: Any, logical_date: datetime | None, run_after: datetime | None, run_type: Any = None
) -> date | None:
    """The rule above, from the pieces every kind of run object carries."""
    if (explicit := parse(param)) is not None:
        kind = str(getattr(run_type, "value", run_type) or "manual")
        if kind in ("backfill", "scheduled"):
            raise InvalidBusinessDate(
                f"the business_date param is for single manual runs; this {kind} run's date is its logical date "
                f"{logical_date.date() if logical_date else '?'} (clear the param and backfill the dates instead)"
            )
        return explicit
    if logical_date is not None:
        return logical_date.date()
    if run_after is not None:
        return run_after.date() - timedelta(days=1)
    return None


def of_run(dag_run: Any) -> date | None:
    """Business date of a DAG run object (scheduler/API-server model, Task SDK run, or a dict from the REST API)."""
    get = dag_run.get if isinstance(dag_run, dict) else lambda key: getattr(dag_run, key, None)
    conf = get("conf") or {}
    return resolve(
        param=conf.get(PARAM) if isinstance(conf, dict) else None,
        logical_date=_moment(get("logical_date")),
        run_after=_moment(get("run_after")),
        run_type=get("run_type"),
    )


def from_context(context: Any) -> date:
    """Business date of the running task's DAG run (Airflow task context)."""
    params = context.get("params") or {}
    dag_run = context.get("dag_run")
    day = resolve(
        param=params.get(PARAM) if hasattr(params, "get") else None,
        logical_date=context.get("logical_date"),
        run_after=getattr(dag_run, "run_after", None),
        run_type=getattr(dag_run, "run_type", None),
    )
    if day is None:
        raise InvalidBusinessDate("the run has no business date: no param, logical date or run time")
    return day


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class BusinessDateTemplates:
    """Operator mixin: templates see ``business_date`` (a date) besides Airflow's own context."""

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        context["business_date"] = from_context(context)
        super().render_template_fields(context, jinja_env)  # type: ignore[misc]
