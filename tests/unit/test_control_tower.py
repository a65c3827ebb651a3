"""The Control Tower page's verdicts per business date, its page and documents, and its plugin.

The page on a real stack, in a browser, after the demo's faults: tests/integration/test_control_tower.py.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from include.control_tower import data, page

D = date(2026, 11, 2)
REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"


def run(day: date, state: str = "success", failed: tuple[str, ...] = (), *, after_h: int = 0, run_id: str = "") -> dict:
    logical = datetime.combine(day, datetime.min.time())
    return {
        "run_id": run_id or f"backfill__{day}",
        "state": state,
        "run_type": "backfill",
        "logical_date": logical,
        "run_after": logical + timedelta(days=1, hours=after_h),
        "conf": {},
        "start_date": None,
        "failed_tasks": list(failed),
    }


def file_row(day: date, feed: str, status: str = "LOADED", *, loaded: int = 10, rejected: int = 0, **input_) -> dict:
    return {
        "business_date": day,
        "status": input_.get("completeness"),
        "missing_feeds": input_.get("missing"),
        "feed": feed,
        "file_name": f"{feed}_{day:%Y%m%d}.csv",
        "file_status": status,
        "reason": "header differs" if status == "QUARANTINED" else None,
        "rows_loaded": loaded,
        "rows_rejected": rejected,
    }


def overview(runs, inputs=(), first=D - timedelta(days=3), last=D + timedelta(days=1), first_run=None, **panels):
    return data.assemble(first, last, list(runs), first_run, {"inputs": list(inputs), **panels})


def by_day(o: data.Overview) -> dict[date, data.DateStatus]:
    return {s.day: s for s in o.dates}


def test_a_failed_run_names_its_task_its_runbook_section_and_needs_a_backfill() -> None:
    o = overview([run(D, "failed", ("model_checks.orphans",))], first_run=D)
    s = by_day(o)[D]
    assert s.state == "failed" and s.backfill == "failed"
    (problem,) = s.problems
    assert problem.text == "run failed: model_checks.orphans"
    assert problem.runbook == "transforms.md#model_checks-a-critical-model-check-failed"
    assert s.run.url == f"../dags/retail_daily/runs/backfill__{D}"


def test_dates_before_the_first_run_are_idle_and_a_gap_after_it_needs_a_backfill() -> None:
    o = overview([run(D - timedelta(days=2)), run(D)], first_run=D - timedelta(days=2))
    states = {s.day: (s.state, s.backfill) for s in o.dates}
    assert states[D - timedelta(days=3)] == ("idle", None)  # before the platform ran
    assert states[D - timedelta(days=1)] == ("no_run", "failed")  # a gap
    assert states[D + timedelta(days=1)] == ("no_run", "failed")  # yesterday has no run yet
    assert states[D] == ("ok", None)


def test_the_latest_run_of_a_date_decides_it() -> None:
    failed_first = run(D, "failed", ("gold.publish",), run_id="scheduled__1")
    fixed_later = run(D, "success", after_h=5, run_id="manual__2")
    s = by_day(overview([fixed_later, failed_first], first_run=D))[D]
    assert (s.run.run_id, s.state, s.backfill) == ("manual__2", "ok", None)


def test_backfills_group_consecutive_dates_of_the_same_kind() -> None:
    first = D - timedelta(days=3)
    runs = [run(first, "failed", ("ingest_orders.validate_file",)), run(D, "success"), run(D + timedelta(days=1))]
    late = [file_row(D, "payments", "LATE"), file_row(D + timedelta(days=1), "orders", "LATE")]
    o = overview(runs, late, first_run=first)
    # 11-30 failed, 12-01 (no run) -> one "missing and errored" range; 11-02 and 11-03 have a late
    # file after a successful run -> "all runs" (a failed date would be re-run anyway)
    assert [(b.first, b.last, b.reprocess, len(b.dates)) for b in o.backfills] == [
        (first, D - timedelta(days=1), "failed", 3),
        (D, D + timedelta(days=1), "completed", 2),
    ]
    assert o.backfills[0].command == (
        f"airflow backfill create --dag-id retail_daily --from-date {first} --to-date {D - timedelta(days=1)} "
        "--reprocess-behavior failed"
    )
    assert o.backfills[1].form_choice == "All Runs"
    assert "late file(s) waiting in the inbox: payments" in [p.text for p in by_day(o)[D].problems]


def test_input_files_rejects_and_missing_feeds_per_date() -> None:
    rows = [
        file_row(D, "orders", loaded=100, rejected=3, completeness="partial", missing="payments"),
        file_row(D, "orders", loaded=100, rejected=3, completeness="partial", missing="payments"),  # a join repeat
        file_row(D, "store_sales", loaded=50, rejected=4, completeness="partial", missing="payments"),
        file_row(D, "payments", "QUARANTINED", loaded=0, completeness="partial", missing="payments"),
    ]
    s = by_day(overview([run(D)], rows, first_run=D))[D]
    assert (s.completeness, s.missing_feeds, s.files_loaded, s.rows_loaded, s.rows_rejected) == (
        "partial", ["payments"], 2, 150, 7
    )  # fmt: skip
    assert s.rejects_by_feed == {"orders": 3, "store_sales": 4}
    texts = [p.text for p in s.problems]
    assert "payments file quarantined: header differs" in texts
    assert "input partial: missing payments" in texts
    assert "7 rows rejected (orders 3, store_sales 4)" in texts
    assert s.state == "attention"


def test_checks_alerts_and_revenue_land_on_their_dates() -> None:
    finding = {
        "business_date": D, "severity": "critical", "layer": "model", "check_name": "orphan_orders",
        "table_name": "FCT_ORDERS", "observed": 1, "threshold": 0, "detail": "1 order of an unknown customer",
    }  # fmt: skip
    warning = {**finding, "severity": "warning", "check_name": "inputs_complete", "layer": "gold"}
    o = overview(
        [run(D, "failed", ("model_checks.orphans",))],
        first_run=D,
        dq_findings=[finding, warning],
        alerts=[
            {"business_date": D, "status": "sent", "subject": "[retail_daily] FAILED"},
            {"business_date": D, "status": "lost", "subject": "[retail_daily] LATE"},
        ],
        revenue=[{"revenue_date": D, "orders": 12, "net_revenue": 345.5, "completeness": "complete"}],
    )
    s = by_day(o)[D]
    assert [len(s.dq["critical"]), len(s.dq["warning"])] == [1, 1]
    assert (s.alerts_sent, s.alerts_lost) == (["[retail_daily] FAILED"], ["[retail_daily] LATE"])
    assert (s.orders, s.net_revenue) == (12, 345.5)
    runbooks = {p.text.split(":")[0]: p.runbook for p in s.problems}
    assert (
        runbooks["critical check orphan_orders on FCT_ORDERS"]
        == "transforms.md#model_checks-a-critical-model-check-failed"
    )
    assert runbooks["check warnings"] == "transforms.md#warnings-the-run-stays-green"
    assert runbooks["1 alert(s) never reached on-call"] == "on-call.md#what-reaches-on-call"


def _anchors(markdown: str) -> set[str]:
    headings = [line.lstrip("#").strip() for line in markdown.splitlines() if line.startswith("#")]
    return {page._slug(h) for h in headings}


def test_every_runbook_section_the_page_links_to_is_a_heading() -> None:
    sections = {v for k, v in vars(data).items() if k.startswith("RUNBOOK_")} | {
        "backfill.md#from-the-ui", "churn-model.md#monitor_churn_model-alerted", "on-call.md#what-reaches-on-call",
    }  # fmt: skip
    for section in sections:
        name, anchor = section.split("#")
        assert anchor in _anchors((DOCS / "runbooks" / name).read_text()), section
    # the page's slugs are GitHub's, as the DAG test and the alerts use them
    assert page._slug("`ingest_<feed>.wait_for_file` failed (sensor timed out)") == (
        "ingest_feedwait_for_file-failed-sensor-timed-out"
    )


def test_the_page_shows_each_date_and_marks_incomplete_dates_in_the_chart() -> None:
    o = overview(
        [run(D, "failed", ("ingest_payments.validate_file",)), run(D - timedelta(days=1))],
        [file_row(D, "orders", rejected=2, completeness="partial", missing="payments")],
        first_run=D - timedelta(days=1),
        revenue=[
            {"revenue_date": D, "orders": 5, "net_revenue": 50.0, "completeness": "partial"},
            {"revenue_date": D - timedelta(days=1), "orders": 9, "net_revenue": 90.0, "completeness": "complete"},
        ],
    )
    html = page.render(o, days=5, now=datetime(2026, 12, 4, 8))
    row = re.search(rf'<tr class="date-row" data-date="{D}" data-state="failed">(.*?)</tr>', html, re.S)
    assert row, "the failed date's row"
    assert "run failed: ingest_payments.validate_file" in row[1]
    assert 'href="docs/runbooks/ingestion.md#ingest_feedvalidate_file-failed-the-file-was-quarantined"' in row[1]
    assert "missing: payments" in row[1]
    assert f'data-incomplete="{D}"' in html and f'data-incomplete="{D - timedelta(days=1)}"' not in html
    assert f'data-date="{D}" data-completeness="partial"' in html
    assert f"--from-date {D - timedelta(days=3)}" not in html  # before the first run: no backfill
    assert 'id="backfills"' in html and f"--from-date {D} --to-date {D + timedelta(days=1)}" in html


def test_the_page_escapes_what_partners_and_checks_write() -> None:
    hostile = file_row(D, "orders", "QUARANTINED")
    hostile["reason"] = "<script>alert(1)</script>"
    html = page.render(overview([run(D)], [hostile], first_run=D), days=5, now=datetime(2026, 12, 4))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_runbook_links_go_to_a_configured_site_or_to_the_served_copy(monkeypatch) -> None:
    import include.config

    assert page.runbook_href("backfill.md#from-the-ui") == "docs/runbooks/backfill.md#from-the-ui"
    monkeypatch.setattr(include.config, "RUNBOOK_BASE", "https://wiki.example.com/retail/runbooks/")
    assert (
        page.runbook_href("backfill.md#from-the-ui")
        == "https://wiki.example.com/retail/runbooks/backfill.md#from-the-ui"
    )


def test_documents_are_served_with_their_anchors_and_nothing_outside_docs() -> None:
    html = page.render_doc("runbooks/transforms.md")
    assert 'id="model_checks-a-critical-model-check-failed"' in html
    assert 'href="../../"' in html  # back to the page
    for outside in ("../README.md", "runbooks/../../README.md", "/etc/passwd", "runbooks/missing.md", "../Makefile"):
        assert page.render_doc(outside) is None, outside


def _plugin_module():
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "plugins" / "control_tower.py"
    spec = importlib.util.spec_from_file_location("control_tower_plugin", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_plugin_puts_a_nav_entry_on_its_app_and_refuses_a_caller_without_a_token() -> None:
    from fastapi.testclient import TestClient

    plugin = _plugin_module()
    (app,) = plugin.ControlTowerPlugin.fastapi_apps
    (view,) = plugin.ControlTowerPlugin.external_views
    assert app["url_prefix"] == "/control-tower" and view["href"] == "control-tower/"
    assert (view["name"], view["destination"], view["url_route"]) == ("Control Tower", "nav", "control-tower")
    client = TestClient(app["app"])
    # loading the plugin (every Airflow process does) must not import the app (FastAPI, API security)
    import subprocess
    import sys

    probe = (
        "import sys, importlib.util; sys.path.insert(0, 'plugins'); import control_tower; "
        "print(any(m.startswith(('fastapi', 'include.control_tower')) for m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True)
    assert loaded.stdout.strip().endswith("False"), loaded.stdout + loaded.stderr
    for route in ("/", "/api/overview", "/docs/runbooks/backfill.md"):
        assert client.get(route).status_code == 401, route  # before any warehouse or database read


@pytest.mark.parametrize("days", [0, data.MAX_DAYS + 1])
def test_a_range_outside_the_limits_is_refused(days: int) -> None:
    with pytest.raises(ValueError, match="days must be"):
        data.date_range(None, days, date(2026, 12, 4))
