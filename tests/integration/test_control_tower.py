"""The Control Tower page in Airflow's UI, after the demo's partner mistakes, in a real browser.

Five business dates get the faults `make demo` injects (local/demo.py): rejected store_sales rows,
customers rows in the wrong encoding (an orphan order stops the run), an orders file without a
column (quarantined, the run fails, the date is published later from partial input), a file named
to break SQL. They run through the scheduler as a backfill; then Chromium logs in, opens the
*Control Tower* entry of the navigation, and reads what an operator would. A screenshot is kept
under var/test-artifacts/. Who may not see the page is asserted over HTTP.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from datetime import date, timedelta

import pytest

from include.config import LANDING
from include.simulator.run import GenerateRequest, generate
from tests.integration.test_ui_backfill import ARTIFACTS, logged_in_page

pytestmark = [pytest.mark.integration, pytest.mark.second_stack]
FIRST = date(2026, 2, 9)  # no other module's dates near it
DAYS = 5
LAST = FIRST + timedelta(days=DAYS - 1)
D = [FIRST + timedelta(days=i) for i in range(DAYS)]
RUN_TIMEOUT = 900


@pytest.fixture(scope="module")
def week(stack):
    from local import session
    from local.demo import demo_faults

    api = stack
    faults = demo_faults(FIRST)
    generate(
        GenerateRequest(
            start=FIRST,
            days=DAYS,
            scale=0.2,  # at 0.05, 3 bad store_sales rows of 50 exceed the 5% reject share: quarantined whole
            seed=42,
            out=f"s3://{LANDING.bucket}/{LANDING.inbox}",
            inject=tuple(faults),
        ),
        progress=False,
    )
    api.wait_for_dag(session.DAILY_DAG)
    session.backfill(api, FIRST, LAST, max_active_runs=3)
    runs = api.wait_for_runs(
        session.DAILY_DAG, lambda r: FIRST <= session.business_date_of(r) <= LAST, DAYS, timeout=RUN_TIMEOUT
    )
    states = {session.business_date_of(r): r["state"] for r in runs}
    expected_failures = {date.fromisoformat(spec.split("@")[1]) for spec, (_, fails) in faults.items() if fails}
    assert {d for d, s in states.items() if s == "failed"} == expected_failures, states
    for run in runs:  # the page reads the alerts through the run-log
        session.wait_for_run_log(run["dag_run_id"])
    return {session.business_date_of(r): r for r in runs}


def _get(path: str, token: str | None) -> tuple[int, bytes]:
    from local.stack import HOST, PORTS

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"http://{HOST}:{PORTS['airflow']}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - http on loopback
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _token(user: str) -> str:
    from local.airflow_api import AirflowAPI

    return AirflowAPI()._login(user)


@pytest.fixture(scope="module")
def browsed(week):
    """What the operator saw: the page's rows by date, the runbook page, the run page it linked to."""
    from playwright.sync_api import sync_playwright

    from local.stack import HOST, PORTS

    base = f"http://{HOST}:{PORTS['airflow']}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    seen: dict[str, object] = {}
    with sync_playwright() as pw:
        browser, page = logged_in_page(pw, base, height=1100)
        # the navigation's entry opens the page inside Airflow's UI
        page.get_by_role("link", name="Control Tower").first.click()
        page.wait_for_url(re.compile(r"/plugin/control-tower"), timeout=30_000)
        frame = page.frame_locator("iframe").first
        frame.get_by_role("heading", name="Retail Control Tower").wait_for(timeout=60_000)
        seen["default_range"] = frame.locator(".sub").first.inner_text()
        # the week of the faults: the page's own range links take any end date
        tower = next(f for f in page.frames if "/control-tower/" in f.url)
        tower.goto(f"{base}/control-tower/?end={LAST}&days={DAYS}")
        tower.locator("#dates").wait_for(timeout=60_000)
        seen["rows"] = {
            date.fromisoformat(row.get_attribute("data-date")): {
                "state": row.get_attribute("data-state"),
                "text": " ".join(row.inner_text().split()),
                "runbooks": [a.get_attribute("href") for a in row.locator("a.runbook").all()],
                "completeness": row.locator("td.input").get_attribute("data-completeness"),
                "rejected": row.locator("td.rejected").inner_text().strip(),
            }
            for row in tower.locator("tr.date-row").all()
        }
        seen["backfills"] = [
            (li.get_attribute("data-first"), li.get_attribute("data-last"), li.get_attribute("data-reprocess"))
            for li in tower.locator("li.backfill").all()
        ]
        seen["incomplete_marks"] = sorted(
            m.get_attribute("data-incomplete") for m in tower.locator("[data-incomplete]").all()
        )
        page.screenshot(path=str(ARTIFACTS / "control-tower.png"), full_page=True)
        # the failed date's runbook link opens the section it names
        link = tower.locator(f'tr[data-date="{D[3]}"] a.runbook').first
        section = link.get_attribute("href").split("#")[1]
        link.click()
        tower.locator(f'[id="{section}"]').wait_for(timeout=30_000)
        seen["runbook_heading"] = tower.locator(f'[id="{section}"]').inner_text()
        # the run link leaves the iframe for Airflow's own run page
        tower.goto(f"{base}/control-tower/?end={LAST}&days={DAYS}")
        tower.locator(f'tr[data-date="{D[2]}"] a.run-link').click()
        page.wait_for_url(re.compile(r"/dags/retail_daily/runs/"), timeout=30_000)
        seen["run_page"] = page.url
        browser.close()
    return seen


def test_the_failed_dates_show_their_failed_task_and_its_runbook_section(week, browsed) -> None:
    rows = browsed["rows"]
    assert sorted(rows) == D
    assert {d: r["state"] for d, r in rows.items() if r["state"] == "failed"} == {D[2]: "failed", D[3]: "failed"}
    # non-UTF-8 customers rows: one of them ordered that day, so the MODEL orphan check stopped the run
    assert "run failed: model_checks.orphans" in rows[D[2]]["text"]
    assert "docs/runbooks/transforms.md#model_checks-a-critical-model-check-failed" in rows[D[2]]["runbooks"]
    assert "critical check orphan_orders" in rows[D[2]]["text"]
    # the orders file without a column: quarantined, the run failed at its validation
    assert "run failed: ingest_orders.validate_file" in rows[D[3]]["text"]
    assert "orders file quarantined" in rows[D[3]]["text"]
    quarantined = "docs/runbooks/ingestion.md#ingest_feedvalidate_file-failed-the-file-was-quarantined"
    assert rows[D[3]]["runbooks"][0] == quarantined
    assert browsed["runbook_heading"].startswith("ingest_<feed>.validate_file failed")
    # both failed dates need one backfill, of missing and errored runs
    assert browsed["backfills"] == [(str(D[2]), str(D[3]), "failed")]
    assert {d for d, r in rows.items() if "backfill (Missing and Errored Runs)" in r["text"]} == {D[2], D[3]}


def test_the_partial_date_names_its_missing_feed_and_is_marked_in_the_chart(browsed) -> None:
    rows = browsed["rows"]
    # later runs published D[3] from the input it has: everything but orders
    assert rows[D[3]]["completeness"] == "partial"
    assert "missing: orders" in rows[D[3]]["text"]
    assert str(D[3]) in browsed["incomplete_marks"]
    assert {rows[d]["completeness"] for d in (D[0], D[1], D[4])} <= {"complete", "provisional"}


def test_the_rejected_rows_are_on_their_dates(browsed) -> None:
    rows = browsed["rows"]
    assert rows[D[1]]["rejected"] == "3" and "3 rows rejected (store_sales 3)" in rows[D[1]]["text"]
    assert rows[D[2]]["rejected"] == "2" and "2 rows rejected (customers 2)" in rows[D[2]]["text"]
    assert rows[D[1]]["state"] == "attention"  # the run succeeded; the rows are listed for the partner
    # D[0]'s own files had no bad row (whichever run swept the hostile file name shows it)
    assert rows[D[0]]["rejected"] == "" and "rejected" not in rows[D[0]]["text"], rows[D[0]]["text"]


def test_the_run_link_opens_the_run_in_airflow(week, browsed) -> None:
    from urllib.parse import unquote

    assert unquote(browsed["run_page"]).endswith(f"/dags/retail_daily/runs/{week[D[2]]['dag_run_id']}")
    assert browsed["default_range"].startswith("Business dates ")
    assert (ARTIFACTS / "control-tower.png").stat().st_size > 20_000


def test_only_users_who_may_read_the_dag_runs_see_the_page(browsed) -> None:
    path = f"/control-tower/api/overview?end={LAST}&days={DAYS}"
    assert _get(path, None)[0] == 401
    assert _get("/control-tower/", None)[0] == 401
    assert _get(path, _token("norole"))[0] == 403  # logged in, no role: no access to retail_daily
    status, body = _get(path, _token("viewer"))  # read only is enough
    assert status == 200
    overview = json.loads(body)
    assert [d["day"] for d in overview["dates"]] == [str(d) for d in reversed(D)]
    assert set(overview["timings_ms"]) >= {"runs", "inputs", "revenue", "dq_findings", "alerts", "total"}


def test_the_page_reads_without_a_task_or_a_run(week, browsed, stack) -> None:
    """Rendering starts no DAG run and no task: the data comes from two reads, not from Airflow work."""
    from local import session

    before = len(stack.runs(session.DAILY_DAG))
    started = time.monotonic()
    status, _ = _get(f"/control-tower/?end={LAST}&days=30", _token("admin"))
    elapsed = time.monotonic() - started
    assert status == 200
    assert len(stack.runs(session.DAILY_DAG)) == before
    print(f"control tower page, 30 dates: {elapsed * 1000:.0f} ms end to end")  # figures: make bench
