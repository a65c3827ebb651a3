"""An operator backfills three dates from the Airflow UI while the scheduler runs the DAG.

A real browser (the system's Chromium, driven by Playwright) logs in, opens retail_daily, fills
the backfill form and submits it; the runs must succeed on the local stack's PostgreSQL
metadata database with the DAG unpaused. Screenshots of the form and the grid are kept under
var/test-artifacts/ for whoever reads the CI run.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from include.config import LANDING
from include.simulator.run import GenerateRequest, generate

pytestmark = [pytest.mark.integration, pytest.mark.second_stack]
FIRST = date(2026, 8, 3)  # far from the other modules' dates and lookback windows
DAYS = 3
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
RUN_TIMEOUT = 900


def chromium() -> str:
    """The system's Chromium; `make test` installs it where it can. Never skip silently."""
    for candidate in (os.environ.get("RCT_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail(
        "the UI backfill test needs Chromium: `sudo apt-get install -y chromium` (Debian/Ubuntu), "
        "or set RCT_CHROMIUM=/path/to/chromium. `make test` installs it itself when run as root."
    )


def logged_in_page(pw, base: str, height: int = 1000):
    """(browser, page): the system's Chromium, logged in to the local stack's UI as admin."""
    from local.stack import AIRFLOW_HOME

    password = json.loads((AIRFLOW_HOME / "passwords.json").read_text())["admin"]
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
    browser = pw.chromium.launch(executable_path=chromium(), args=[*args, "--disable-sync", "--no-first-run"])
    page = browser.new_page(viewport={"width": 1600, "height": height})
    page.goto(base)
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "login" not in url, timeout=30_000)
    return browser, page


def _pick(page, index: int, day: date) -> None:
    """Fill the n-th date-and-time picker of the form (From = 0, To = 1), then close it.

    Only one picker may be open at a time: its inputs carry the same placeholders. A picker that
    is still closing (slow machine) is waited for, and Escape is pressed again if it stays open.
    """
    dates = page.get_by_placeholder("YYYY/MM/DD")
    page.locator("[data-testid=datetime-input]").nth(index).click()
    dates.first.wait_for(state="visible", timeout=15_000)
    if dates.count() != 1:
        page.screenshot(path=str(ARTIFACTS / f"ui-backfill-picker-{index}.png"))
        raise AssertionError(f"{dates.count()} date pickers open at once (screenshot in {ARTIFACTS})")
    dates.fill(day.strftime("%Y/%m/%d"))
    time_box = page.get_by_placeholder("HH:mm")
    time_box.fill("00:00")
    time_box.press("Enter")
    for _ in range(3):
        page.keyboard.press("Escape")  # close the picker, keep the dialog
        try:
            dates.first.wait_for(state="detached", timeout=5_000)
            return
        except PlaywrightTimeout:
            continue
    page.screenshot(path=str(ARTIFACTS / f"ui-backfill-picker-{index}.png"))
    raise AssertionError(f"the date picker {index} did not close (screenshot in {ARTIFACTS})")


@pytest.fixture(scope="module")
def ui_backfill(stack):
    from playwright.sync_api import sync_playwright

    from local import session
    from local.stack import HOST, PORTS

    api = stack
    chromium()  # no browser: fail before generating anything
    generate(
        GenerateRequest(start=FIRST, days=DAYS, scale=0.05, seed=8, out=f"s3://{LANDING.bucket}/{LANDING.inbox}"),
        progress=False,
    )
    api.wait_for_dag(session.DAILY_DAG)
    api.set_paused(session.DAILY_DAG, False)  # the scheduler keeps running the DAG meanwhile
    before = {b["id"] for b in api.request("GET", f"/backfills?dag_id={session.DAILY_DAG}")["backfills"]}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = f"http://{HOST}:{PORTS['airflow']}"
    with sync_playwright() as pw:
        browser, page = logged_in_page(pw, base)
        page.goto(f"{base}/dags/{session.DAILY_DAG}")
        page.get_by_role("button", name="Trigger").click()
        page.get_by_text("Backfill", exact=True).last.click()
        _pick(page, 0, FIRST)
        _pick(page, 1, FIRST + timedelta(days=DAYS - 1))
        page.locator("input[name=max_active_runs]").fill(str(DAYS))
        page.get_by_text(f"{DAYS} runs will be triggered", exact=False).wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "ui-backfill-form.png"))
        page.get_by_role("button", name="Run Backfill").click()

        deadline = time.monotonic() + 60
        while not (
            new := [
                b
                for b in api.request("GET", f"/backfills?dag_id={session.DAILY_DAG}")["backfills"]
                if b["id"] not in before
            ]
        ):
            assert time.monotonic() < deadline, "the backfill form created no backfill"
            time.sleep(1)
        (backfill,) = new
        finished = api.wait_for_backfill(backfill["id"], RUN_TIMEOUT, check=_stack_alive)
        page.goto(f"{base}/dags/{session.DAILY_DAG}")
        page.wait_for_timeout(5000)
        page.screenshot(path=str(ARTIFACTS / "ui-backfill-grid.png"), full_page=True)
        browser.close()
    runs = {
        session.business_date_of(r): r
        for r in api.runs(session.DAILY_DAG)
        if r["run_type"] == "backfill" and FIRST <= session.business_date_of(r) < FIRST + timedelta(days=DAYS)
    }
    return backfill, finished, runs


def _stack_alive() -> None:
    from local.stack import assert_running

    assert_running()


def test_the_form_creates_one_backfill_of_the_named_dates(ui_backfill) -> None:
    backfill, finished, runs = ui_backfill
    assert backfill["from_date"][:10] == str(FIRST)
    assert backfill["to_date"][:10] == str(FIRST + timedelta(days=DAYS - 1))
    assert finished["completed_at"]
    assert sorted(runs) == [FIRST + timedelta(days=i) for i in range(DAYS)]


def test_every_backfilled_date_succeeds_and_says_its_business_date(ui_backfill) -> None:
    _, _, runs = ui_backfill
    assert {d: r["state"] for d, r in runs.items()} == {d: "success" for d in runs}
    assert {d: r["note"] for d, r in runs.items()} == {d: f"business date {d}" for d in runs}
    assert (ARTIFACTS / "ui-backfill-grid.png").stat().st_size > 10_000
