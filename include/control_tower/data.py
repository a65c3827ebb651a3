"""What the Control Tower page shows for a range of business dates, and what each date needs.

Two sources, one query per panel:
- Airflow's metadata database (the API server's own session): each date's latest run of the daily
  DAG and its failed tasks. Airflow is the truth about runs; the warehouse's run-log can lag.
- The warehouse, through the control tower connection and role (read only): completeness and the
  file ledger, DQ findings, alerts, GOLD freshness, the churn model, revenue for the chart
  (``include/sql/control_tower/*.sql``).

``assemble`` turns the panels' rows into one :class:`DateStatus` per date, newest first, with the
verdict an operator acts on: what went wrong, the runbook section for it, and whether the date
needs a backfill (grouped into ranges with the command and the form's values).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from include import operator_commands, runbooks
from include.runbooks import RUNBOOK_FALLBACK, runbook_section  # the alerts' task -> section map

DAG_ID = operator_commands.DAG_ID
DEFAULT_DAYS = 30
MAX_DAYS = 366
PANELS = ("inputs", "revenue", "dq_findings", "alerts", "freshness", "model_status")
MODEL_STATUS = (  # the columns of ML.V_MODEL_STATUS (include/sql/control_tower/model_status.sql)
    "champion_model_id", "champion_trained_for", "last_training_date", "last_trained_at", "last_training_candidates",
    "last_training_promoted", "last_monitoring_date", "last_monitoring_measures", "last_monitoring_alerts",
)  # fmt: skip

# runbook sections (file#anchor under RUNBOOK_BASE) for what the page reports besides a failed task
RUNBOOK_LATE_FILE = runbooks.LATE_FILES
RUNBOOK_QUARANTINE = runbooks.QUARANTINED_FILE
RUNBOOK_REJECTS = runbooks.REJECTED_ROWS
RUNBOOK_WARNINGS = runbooks.CHECK_WARNINGS
RUNBOOK_BACKFILL = runbooks.BACKFILL_FROM_THE_UI
RUNBOOK_LOST_ALERTS = runbooks.LOST_ALERTS
RUNBOOK_MISSING_FILE = runbooks.MISSING_FILE


@dataclass
class Run:
    run_id: str
    state: str
    run_type: str
    logical_date: datetime | None
    failed_tasks: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The run in Airflow's UI, relative to the page (``/control-tower/``), so it works behind a
        path prefix."""
        return f"../dags/{DAG_ID}/runs/{quote(self.run_id, safe='')}"


@dataclass
class Problem:
    text: str
    runbook: str  # file#anchor under RUNBOOK_BASE
    severity: str = "error"  # error | warning | info


@dataclass
class DateStatus:
    day: date
    run: Run | None = None
    completeness: str | None = None  # complete | provisional | partial | no_input
    missing_feeds: list[str] = field(default_factory=list)
    files_loaded: int = 0
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    late_files: list[dict[str, Any]] = field(default_factory=list)
    rows_loaded: int = 0
    rows_rejected: int = 0
    rejects_by_feed: dict[str, int] = field(default_factory=dict)
    dq: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"critical": [], "warning": []})
    alerts_sent: list[str] = field(default_factory=list)
    alerts_lost: list[str] = field(default_factory=list)
    orders: int | None = None
    net_revenue: float | None = None
    problems: list[Problem] = field(default_factory=list)
    backfill: str | None = None  # None | "failed" (missing or errored runs) | "completed" (re-run all)

    @property
    def state(self) -> str:
        """One word for the row's colour: ok | failed | running | attention | no_run | idle."""
        if self.run is None:
            return "no_run" if self.backfill else "idle"
        if self.run.state == "failed":
            return "failed"
        if self.run.state in ("running", "queued"):
            return "running"
        return "attention" if self.problems else "ok"


@dataclass
class BackfillRange:
    first: date
    last: date
    reprocess: str  # failed | completed
    dates: list[date]

    @property
    def form_choice(self) -> str:
        return {"failed": "Missing and Errored Runs", "completed": "All Runs"}[self.reprocess]

    @property
    def command(self) -> str:
        return operator_commands.backfill(DAG_ID, self.first, self.last, reprocess=self.reprocess)


@dataclass
class Overview:
    first: date
    last: date
    dates: list[DateStatus]  # newest first
    backfills: list[BackfillRange]
    freshness: list[dict[str, Any]]
    model: dict[str, Any]
    timings_ms: dict[str, float]

    def as_json(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, (date, datetime)):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [plain(v) for v in value]
            return value

        dates = []
        for d in self.dates:
            row = plain(asdict(d))
            row["state"] = d.state
            row["run_url"] = d.run.url if d.run else None
            dates.append(row)
        return {
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "dates": dates,
            "backfills": [
                {**plain(asdict(b)), "command": b.command, "form_choice": b.form_choice} for b in self.backfills
            ],
            "freshness": plain(self.freshness),
            "model": plain(self.model),
            "timings_ms": self.timings_ms,
        }


def date_range(end: date | None, days: int, today: date) -> tuple[date, date]:
    """The ``days`` business dates ending at ``end`` (default: yesterday, the newest a daily run covers)."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}, not {days}")
    last = end or today - timedelta(days=1)
    return last - timedelta(days=days - 1), last


# --- sources -------------------------------------------------------------------------------------


def warehouse_panels(hook: Any, first: date, last: date, timings: dict[str, float]) -> dict[str, list[dict[str, Any]]]:
    """Every warehouse panel's rows (one query each, on one connection), as dicts by column name."""
    from include.sql_render import render_sql
    from include.warehouse import one_connection

    out: dict[str, list[dict[str, Any]]] = {}
    params = {"first": first, "last": last}
    with one_connection(hook):
        conn = hook.get_conn()
        for panel in PANELS:
            started = time.perf_counter()
            cursor = conn.cursor()
            cursor.execute(render_sql(f"control_tower/{panel}.sql"), params)
            names = [c[0].lower() for c in cursor.description]
            out[panel] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            timings[panel] = round((time.perf_counter() - started) * 1000, 1)
    return out


def airflow_runs(first: date, last: date, timings: dict[str, float]) -> tuple[list[dict[str, Any]], date | None]:
    """The daily DAG's runs whose business date may lie in the range (with their failed tasks),
    and the first business date the DAG ever ran (dates before it are not gaps)."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import func, or_, select

    started = time.perf_counter()
    low = datetime.combine(first - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    high = datetime.combine(last + timedelta(days=2), datetime.min.time(), tzinfo=UTC)
    with create_session() as session:
        rows = session.execute(
            select(
                DagRun.run_id,
                DagRun.state,
                DagRun.run_type,
                DagRun.logical_date,
                DagRun.run_after,
                DagRun.conf,
                DagRun.start_date,
            ).where(
                DagRun.dag_id == DAG_ID,
                or_(
                    DagRun.logical_date.between(low, high),
                    DagRun.logical_date.is_(None) & DagRun.run_after.between(low, high),
                ),
            )
        ).all()
        ids = [r.run_id for r in rows]
        failed: dict[str, list[str]] = defaultdict(list)
        if ids:
            for run_id, task_id in session.execute(
                select(TaskInstance.run_id, TaskInstance.task_id)
                .where(TaskInstance.dag_id == DAG_ID, TaskInstance.run_id.in_(ids), TaskInstance.state == "failed")
                .order_by(TaskInstance.end_date)
            ):
                failed[run_id].append(task_id)
        first_run = session.execute(
            select(func.min(func.coalesce(DagRun.logical_date, DagRun.run_after))).where(DagRun.dag_id == DAG_ID)
        ).scalar()
    timings["runs"] = round((time.perf_counter() - started) * 1000, 1)
    runs = [
        {
            "run_id": r.run_id,
            "state": str(getattr(r.state, "value", r.state)),
            "run_type": str(getattr(r.run_type, "value", r.run_type)),
            "logical_date": r.logical_date,
            "run_after": r.run_after,
            "conf": r.conf,
            "start_date": r.start_date,
            "failed_tasks": failed.get(r.run_id, []),
        }
        for r in rows
    ]
    return runs, first_run.date() if first_run else None


# --- assembly ------------------------------------------------------------------------------------


def _latest_run_per_date(runs: Iterable[dict[str, Any]]) -> dict[date, Run]:
    from include import business_date

    latest: dict[date, tuple[Any, Run]] = {}
    for r in runs:
        try:
            day = business_date.of_run(r)
        except business_date.InvalidBusinessDate:
            continue
        if day is None:
            continue
        order = (r.get("run_after") or r.get("start_date") or datetime.min, r["run_id"])
        if day not in latest or order > latest[day][0]:
            run = Run(r["run_id"], r["state"], r["run_type"], r.get("logical_date"), list(r["failed_tasks"]))
            latest[day] = (order, run)
    return {day: run for day, (_, run) in latest.items()}


def assemble(
    first: date,
    last: date,
    runs: list[dict[str, Any]],
    first_run_date: date | None,
    panels: dict[str, list[dict[str, Any]]],
    timings_ms: dict[str, float] | None = None,
) -> Overview:
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    by_day = {d: DateStatus(d) for d in days}
    for day, run in _latest_run_per_date(runs).items():
        if day in by_day:
            by_day[day].run = run

    seen_files: set[tuple[date, str, str]] = set()
    for row in panels.get("inputs", []):
        day = row["business_date"]
        if day not in by_day:
            continue
        s = by_day[day]
        if row.get("status") is not None:
            s.completeness = row["status"]
            s.missing_feeds = (row.get("missing_feeds") or "").split()
        if row.get("file_name") is None or (day, row["feed"], row["file_name"]) in seen_files:
            continue
        seen_files.add((day, row["feed"], row["file_name"]))
        status = row["file_status"]
        if status == "LOADED":
            s.files_loaded += 1
            s.rows_loaded += int(row.get("rows_loaded") or 0)
            rejected = int(row.get("rows_rejected") or 0)
            if rejected:
                s.rows_rejected += rejected
                s.rejects_by_feed[row["feed"]] = s.rejects_by_feed.get(row["feed"], 0) + rejected
        elif status == "QUARANTINED":
            s.quarantined.append({"feed": row["feed"], "file": row["file_name"], "reason": row.get("reason") or ""})
        elif status == "LATE":
            s.late_files.append({"feed": row["feed"], "file": row["file_name"]})

    for row in panels.get("revenue", []):
        if row["revenue_date"] in by_day:
            by_day[row["revenue_date"]].orders = int(row["orders"])
            by_day[row["revenue_date"]].net_revenue = float(row["net_revenue"])

    for row in panels.get("dq_findings", []):
        if row["business_date"] in by_day:
            severity = "critical" if row["severity"] == "critical" else "warning"
            by_day[row["business_date"]].dq[severity].append(
                {k: row.get(k) for k in ("layer", "check_name", "table_name", "observed", "threshold", "detail")}
            )

    for row in panels.get("alerts", []):
        if row["business_date"] in by_day:
            s = by_day[row["business_date"]]
            (s.alerts_lost if row["status"] == "lost" else s.alerts_sent).append(row["subject"])

    for s in by_day.values():
        _judge(s, first_run_date)

    dates = sorted(by_day.values(), key=lambda s: s.day, reverse=True)
    return Overview(
        first=first,
        last=last,
        dates=dates,
        backfills=backfill_ranges(dates),
        freshness=panels.get("freshness", []),
        model=_model_status((panels.get("model_status") or [{}])[0]),
        timings_ms=timings_ms or {},
    )


def _model_status(row: dict[str, Any]) -> dict[str, Any]:
    status = {key: row.get(key) for key in MODEL_STATUS}
    if status["last_training_date"] is None:  # no training yet (the stand-in returns 1970 for a null time)
        status.update(last_trained_at=None, last_training_candidates=None, last_training_promoted=None)
    return status


def _judge(s: DateStatus, first_run_date: date | None) -> None:
    """What went wrong on the date, the runbook section for each, and whether it needs a backfill."""
    run = s.run
    if run is None:
        had_input = s.files_loaded or s.quarantined or s.late_files
        if had_input or (first_run_date is not None and s.day >= first_run_date):
            s.problems.append(Problem("no run for this date", RUNBOOK_BACKFILL))
            s.backfill = "failed"
    elif run.state == "failed":
        if run.failed_tasks:
            text, section = f"run failed: {', '.join(run.failed_tasks)}", runbook_section(run.failed_tasks[0])
        else:
            text, section = "run marked failed (no task failed)", RUNBOOK_FALLBACK
        s.problems.append(Problem(text, section))
        s.backfill = "failed"
    for q in s.quarantined:
        s.problems.append(Problem(f"{q['feed']} file quarantined: {q['reason']}", RUNBOOK_QUARANTINE))
    if s.late_files:
        feeds = ", ".join(sorted(f["feed"] for f in s.late_files))
        s.problems.append(Problem(f"late file(s) waiting in the inbox: {feeds}", RUNBOOK_LATE_FILE))
        if s.backfill is None and run is not None and run.state == "success":
            s.backfill = "completed"
    if s.completeness in ("partial", "no_input") and s.missing_feeds and s.state != "idle":
        s.problems.append(
            Problem(f"input {s.completeness}: missing {', '.join(s.missing_feeds)}", RUNBOOK_MISSING_FILE, "warning")
        )
    for finding in s.dq["critical"]:
        # the check tasks of a layer share its runbook section (gold's checks are gold.<check>)
        task = f"{finding['layer']}_checks.check" if finding["layer"] != "gold" else "gold.check"
        detail = f": {finding['detail']}" if finding.get("detail") else ""
        s.problems.append(
            Problem(f"critical check {finding['check_name']} on {finding['table_name']}{detail}", runbook_section(task))
        )
    if s.dq["warning"]:
        names = ", ".join(sorted({f["check_name"] for f in s.dq["warning"]}))
        s.problems.append(Problem(f"check warnings: {names}", RUNBOOK_WARNINGS, "warning"))
    if s.rows_rejected:
        per_feed = ", ".join(f"{feed} {n}" for feed, n in sorted(s.rejects_by_feed.items()))
        s.problems.append(Problem(f"{s.rows_rejected} rows rejected ({per_feed})", RUNBOOK_REJECTS, "warning"))
    if s.alerts_lost:
        s.problems.append(Problem(f"{len(s.alerts_lost)} alert(s) never reached on-call", RUNBOOK_LOST_ALERTS))


def backfill_ranges(dates: Iterable[DateStatus]) -> list[BackfillRange]:
    """Consecutive dates that need the same kind of backfill, oldest range first."""
    ranges: list[BackfillRange] = []
    for s in sorted((d for d in dates if d.backfill), key=lambda d: d.day):
        current = ranges[-1] if ranges else None
        if current and current.reprocess == s.backfill and s.day == current.last + timedelta(days=1):
            current.last = s.day
            current.dates.append(s.day)
        else:
            ranges.append(BackfillRange(s.day, s.day, s.backfill, [s.day]))
    return ranges


def overview(
    hook_factory: Callable[[], Any], end: date | None = None, days: int = DEFAULT_DAYS, today: date | None = None
) -> Overview:
    """Everything the page shows, read now (no task process or DAG run involved)."""
    first, last = date_range(end, days, today or date.today())
    timings: dict[str, float] = {}
    started = time.perf_counter()
    runs, first_run_date = airflow_runs(first, last, timings)
    panels = warehouse_panels(hook_factory(), first, last, timings)
    result = assemble(first, last, runs, first_run_date, panels, timings)
    timings["total"] = round((time.perf_counter() - started) * 1000, 1)
    return result
