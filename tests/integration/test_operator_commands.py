"""Every command handed to on-call and operators, executed on the private stack (issue 36).

Three dates fail the way a partner breaks them (a payments file without a column: quarantined,
`ingest_payments.validate_file` fails, nothing after it runs) and each sends its FAILED mail.
The partner then re-delivers, and on-call does exactly what the mail says, with a different one
of its commands per date: the CLI clear, the REST clear, the one-date backfill. Each must re-run
the failed task and everything downstream of it in that run only (setup and teardown as Airflow
adds them), and the run must then succeed. The runbooks' templates
(``include.operator_commands.DOCUMENTED``) are run with their placeholders filled. Commands run
through ``local/airflow`` (Airflow's own CLI with the stack's environment) and ``curl``.

Regression: the alerts used to give ``-t '^model_checks\\.orphans$'``, which Airflow 3.3 matches
as plain text: it cleared nothing and exited 0 (tests/unit/test_operator_commands.py keeps that
fact). The clear tests below fail on that command: the run stays failed.
"""

from __future__ import annotations

import html
import os
import re
import shlex
import subprocess
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from include import operator_commands as commands
from include.config import LANDING
from include.simulator.run import GenerateRequest, generate

pytestmark = [pytest.mark.integration, pytest.mark.second_stack]
REPO = Path(__file__).resolve().parents[2]
DAG = "retail_daily"
FIRST = date(2026, 10, 12)  # far from the other modules' dates and lookback windows
BROKEN = [FIRST, FIRST + timedelta(days=1), FIRST + timedelta(days=2)]
EXTRA = FIRST + timedelta(days=3)  # run only by the documented trigger command
FAILED_TASK = "ingest_payments.validate_file"
TIMEOUT = 900


def _generate(out: str, days: list[date], inject: tuple[str, ...] = ()) -> None:
    request = GenerateRequest(start=days[0], days=len(days), scale=0.1, seed=23, out=out, inject=inject)
    generate(request, progress=False)


def _redeliver_payments(day: date) -> None:
    """The partner sends the day's payments file again, now with every column."""
    from local import session

    with tempfile.TemporaryDirectory() as tmp:
        _generate(tmp, [day])
        name = f"payments_{day:%Y%m%d}.csv"
        session.s3_client().upload_file(str(Path(tmp) / name), LANDING.bucket, LANDING.inbox_key(name))


def _run(command: str, token: str | None = None) -> str:
    """Execute a command as on-call would: ``airflow`` is the stack's CLI, anything else a shell."""
    env = {**os.environ, "AIRFLOW_API_TOKEN": token or ""}
    if command.startswith("airflow "):
        argv = [str(REPO / "local" / "airflow"), *shlex.split(command)[1:]]
        result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    else:
        result = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (
        f"{command}\nexit {result.returncode}\n{result.stdout[-2000:]}{result.stderr[-3000:]}"
    )
    return result.stdout


def _mail_commands(day: date) -> dict[str, str]:
    """The re-run commands of the date's FAILED mail, by the label the mail gives them."""
    from local import session

    subject = f"[{DAG}] FAILED {FAILED_TASK} for {day} (AirflowFailException)"
    deadline = time.monotonic() + 120
    while not (found := [m for m in session.mails() if m["Subject"] == subject]):
        assert time.monotonic() < deadline, f"no mail {subject!r}"
        time.sleep(3)
    (mail,) = found
    body = next(p for p in mail.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    rows = re.findall(r"<tr><th align='left'>(.*?)</th><td><code>(.*?)</code></td></tr>", body)
    return {html.unescape(k).split(" (")[0]: html.unescape(v) for k, v in rows}


def _states(api, run_id: str) -> dict[str, tuple[str | None, int]]:
    return {t["task_id"]: (t["state"], t["try_number"]) for t in api.task_instances(DAG, run_id)}


def _descendants(api, task_ids: set[str]) -> set[str]:
    """Every task downstream of ``task_ids`` in the DAG as the API server lists it."""
    children = {t["task_id"]: t["downstream_task_ids"] for t in api.request("GET", f"/dags/{DAG}/tasks")["tasks"]}
    out, frontier = set(task_ids), list(task_ids)
    while frontier:
        for child in children[frontier.pop()]:
            if child not in out:
                out.add(child)
                frontier.append(child)
    return out


def _backfill_ids(api) -> set[int]:
    return {b["id"] for b in api.request("GET", f"/backfills?dag_id={DAG}&limit=100")["backfills"]}


def _run_backfill_command(api, command: str) -> dict[str, Any]:
    """Execute a `backfill create` command; the one backfill it created, once completed."""
    existing = _backfill_ids(api)
    _run(command)
    (new,) = _backfill_ids(api) - existing
    return api.wait_for_backfill(new, TIMEOUT)


def _changed(before: dict, after: dict) -> set[str]:
    return {t for t in after if after[t] != before.get(t)}


@pytest.fixture(scope="module")
def broken_dates(stack) -> dict[str, Any]:
    from local import session

    api = stack
    _generate(
        f"s3://{LANDING.bucket}/{LANDING.inbox}",
        [*BROKEN, EXTRA],
        inject=tuple(f"missing_column:payments@{d}" for d in BROKEN),
    )
    api.wait_for_dag(DAG)
    api.wait_for_backfill(session.backfill(api, BROKEN[0], BROKEN[-1], max_active_runs=3), TIMEOUT)
    runs = {session.business_date_of(r): r for r in api.runs(DAG) if session.business_date_of(r) in BROKEN}
    for day in BROKEN:
        failed = {t for t, (state, _) in _states(api, runs[day]["dag_run_id"]).items() if state == "failed"}
        assert runs[day]["state"] == "failed" and failed == {FAILED_TASK}, (day, failed)
    return {"api": api, "runs": runs, "mails": {day: _mail_commands(day) for day in BROKEN}}


def _assert_clear_reran_exactly(api, runs: dict, day: date, run_command) -> None:
    """Run ``run_command`` for ``day``: its run re-runs the failed task and its downstream, only."""
    run_id = runs[day]["dag_run_id"]
    others = {d: _states(api, r["dag_run_id"]) for d, r in runs.items() if d != day}
    before = _states(api, run_id)
    _redeliver_payments(day)
    run_command()
    run = api.wait_for_run(DAG, run_id, TIMEOUT)
    after = _states(api, run_id)
    assert run["state"] == "success", {t: s for t, s in after.items() if s[0] != "success"}
    assert _changed(before, after) == _descendants(api, {FAILED_TASK})
    assert {d: _states(api, r["dag_run_id"]) for d, r in runs.items() if d != day} == others, "other runs moved"


def test_the_mails_cli_clear_reruns_the_failed_task_and_its_downstream_in_its_run(broken_dates) -> None:
    api, runs, mails = broken_dates["api"], broken_dates["runs"], broken_dates["mails"]
    day = BROKEN[0]
    command = mails[day]["CLI"]
    logical = datetime.fromisoformat(runs[day]["logical_date"].replace("Z", "+00:00"))
    assert command == commands.clear_task(DAG, FAILED_TASK, logical, [FAILED_TASK])
    _assert_clear_reran_exactly(api, runs, day, lambda: _run(command))


def test_the_mails_rest_clear_does_the_same_by_run_id(broken_dates) -> None:
    api, runs, mails = broken_dates["api"], broken_dates["runs"], broken_dates["mails"]
    day = BROKEN[1]
    command = mails[day]["REST"]
    assert runs[day]["dag_run_id"] in command
    api.request("GET", f"/dags/{DAG}")  # logs in: the token on-call would get from /auth/token
    _assert_clear_reran_exactly(api, runs, day, lambda: _run(command, token=api._token))


def test_the_mails_backfill_reruns_exactly_its_business_date(broken_dates) -> None:
    from local import session

    api, mails = broken_dates["api"], broken_dates["mails"]
    day = BROKEN[2]
    (label,) = [k for k in mails[day] if k.startswith("or the whole business date")]
    assert label.endswith(str(day))
    _redeliver_payments(day)
    ids_before = {r["dag_run_id"] for r in api.runs(DAG)}
    backfill = _run_backfill_command(api, mails[day][label])
    assert backfill["from_date"][:10] == backfill["to_date"][:10] == str(day)
    assert {r["dag_run_id"] for r in api.runs(DAG)} == ids_before, "the failed run is re-run, no new run"
    (run,) = [r for r in api.runs(DAG) if session.business_date_of(r) == day]
    assert run["state"] == "success"


def test_the_runbooks_commands_do_what_they_say(broken_dates) -> None:
    """Every DOCUMENTED template, filled: trigger, clear of a feed group, backfill newest first,
    full rebuild (the mail's forms of clear_task and backfill ran above)."""
    from local import session

    api, runs = broken_dates["api"], broken_dates["runs"]
    executed = {"clear_task", "backfill"}  # above, from the mails

    # trigger one business date
    ids_before = {r["dag_run_id"] for r in api.runs(DAG)}
    _run(commands.fill(commands.DOCUMENTED["trigger"], date=str(EXTRA)))
    (new,) = [r for r in api.runs(DAG) if r["dag_run_id"] not in ids_before]
    assert session.business_date_of(new) == EXTRA
    assert api.wait_for_run(DAG, new["dag_run_id"], TIMEOUT)["state"] == "success"
    executed.add("trigger")

    # clear one feed's group (and what depends on it) in one run
    day = BROKEN[0]
    run_id = runs[day]["dag_run_id"]
    others = {r["dag_run_id"]: _states(api, r["dag_run_id"]) for r in api.runs(DAG) if r["dag_run_id"] != run_id}
    before = _states(api, run_id)
    logical = runs[day]["logical_date"].replace("Z", "+00:00")
    _run(commands.fill(commands.DOCUMENTED["clear_feed"], feed="orders", logical_date=logical))
    assert api.wait_for_run(DAG, run_id, TIMEOUT)["state"] == "success"
    group = {t for t in before if t.startswith("ingest_orders.")}
    assert len(group) == 4 and _changed(before, _states(api, run_id)) == _descendants(api, group)
    assert {r: _states(api, r) for r in others} == others, "other runs moved"
    executed.add("clear_feed")

    # a range newest first, every date again: exactly those dates, no new run
    ids_before = {r["dag_run_id"]: r for r in api.runs(DAG)}
    command = commands.fill(
        commands.DOCUMENTED["backfill_backwards"],
        first_date=str(BROKEN[0]),
        last_date=str(BROKEN[1]),
        reprocess="completed",
    )
    backfill = _run_backfill_command(api, command)
    assert (backfill["from_date"][:10], backfill["to_date"][:10]) == (str(BROKEN[0]), str(BROKEN[1]))
    rerun = {
        session.business_date_of(r) for r in api.runs(DAG) if r["end_date"] != ids_before[r["dag_run_id"]]["end_date"]
    }
    assert rerun == set(BROKEN[:2])
    assert {r["dag_run_id"] for r in api.runs(DAG)} == set(ids_before)
    executed.add("backfill_backwards")

    # full rebuild of one date: that date's run again, with the rebuild's conf
    _run_backfill_command(api, commands.fill(commands.DOCUMENTED["full_rebuild"], date=str(EXTRA)))
    (run,) = [r for r in api.runs(DAG) if session.business_date_of(r) == EXTRA]
    assert run["state"] == "success" and run["conf"].get("lookback_days") == 3660
    executed.add("full_rebuild")

    assert executed == set(commands.DOCUMENTED), "a documented template was not executed"
