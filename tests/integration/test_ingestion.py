"""The daily DAG on the real local stack, through the Airflow scheduler.

Two business dates: the scheduler's own run for yesterday, an operator's backfill for the day
before. Partner mistakes are injected; the warehouse, the rejects, the bucket layout and the
ledger must say exactly what happened, and re-running the dates must change nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import time
from datetime import date, timedelta
from typing import Any

import pytest

from include.config import LANDING, WAREHOUSE
from include.contracts import FEED_NAMES, load_contract
from include.simulator.run import GenerateRequest, generate

pytestmark = pytest.mark.integration
RUN_TIMEOUT = 900


def _generate(day1, days: int, inject: tuple[str, ...] = ()) -> dict[str, Any]:
    request = GenerateRequest(
        start=day1, days=days, scale=0.5, seed=11, out=f"s3://{LANDING.bucket}/{LANDING.inbox}", inject=inject
    )
    return generate(request, progress=False)


def _bronze(feed: str, day) -> list[tuple]:
    """A feed's BRONZE rows for a date, without the load timestamp."""
    from local import session

    cols = [*load_contract().feed(feed).column_names, "_source_file", "_source_line", "_batch_date"]
    return session.snowflake_hook().get_records(
        f"select {', '.join(cols)} from {WAREHOUSE.qualified(WAREHOUSE.bronze, feed.upper())} "
        f"where _batch_date = '{day}' order by _source_line"
    )


def _snapshot(days) -> dict[str, str]:
    """Fingerprint of every BRONZE partition, reject and ledger row for the dates, load times included."""
    from local import session

    hook = session.snowflake_hook()
    out = {}
    for day in days:
        for feed in FEED_NAMES:
            rows = hook.get_records(
                f"select * from {WAREHOUSE.qualified(WAREHOUSE.bronze, feed.upper())} "
                f"where _batch_date = '{day}' order by _source_line"
            )
            out[f"{feed}/{day}"] = hashlib.sha256(repr(rows).encode()).hexdigest()
    dates = ", ".join(f"'{d}'" for d in days)
    for table, order in (("LOAD_REJECTS", "feed, line_number"), ("FILE_LOADS", "feed, batch_date, file_md5")):
        table_name = WAREHOUSE.qualified(WAREHOUSE.audit, table)
        rows = hook.get_records(f"select * from {table_name} where batch_date in ({dates}) order by {order}")
        out[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def stack_alive() -> None:
    from local.stack import assert_running

    assert_running()


def _failed_tasks(api, run) -> set[str]:
    return {t["task_id"] for t in api.task_instances("retail_daily", run["dag_run_id"]) if t["state"] == "failed"}


@pytest.fixture(scope="module")
def first_runs(fresh_warehouse):
    """Generate two days with faults, run yesterday (scheduled) and the day before (backfill)."""
    from local import session

    api = fresh_warehouse
    day2 = session.yesterday()
    day1 = day2 - timedelta(days=1)
    record = _generate(
        day1,
        2,
        inject=(
            f"malformed_rows@{day1}",
            f"missing_column:payments@{day2}",
            f"hostile_name@{day2}",
            f"unknown_feed@{day2}",
        ),
    )
    # day 1's stores file arrives late: its sensor must wait in the triggerer (deferred) and go on
    late = f"{LANDING.inbox}/stores_{day1:%Y%m%d}.csv"
    s3, bucket = session.s3_client(), LANDING.bucket
    s3.copy_object(Bucket=bucket, Key=f"held/{late}", CopySource={"Bucket": bucket, "Key": late})
    s3.delete_object(Bucket=bucket, Key=late)
    api.wait_for_dag("retail_daily")
    # unpaused with the backfill: the scheduler also runs yesterday on its own
    backfill = session.backfill(api, day1, day1)
    deferred = _wait_for_task_state(api, day1, "ingest_stores.wait_for_file", "deferred")
    s3.copy_object(Bucket=bucket, Key=late, CopySource={"Bucket": bucket, "Key": f"held/{late}"})
    s3.delete_object(Bucket=bucket, Key=f"held/{late}")

    def in_range(run):
        return day1 <= session.business_date_of(run) <= day2

    runs = api.wait_for_runs("retail_daily", in_range, 2, RUN_TIMEOUT, check=stack_alive)
    api.wait_for_backfill(backfill, RUN_TIMEOUT, check=stack_alive)
    by_day = {session.business_date_of(r): r for r in runs}
    return api, day1, day2, record, by_day, deferred


def _wait_for_task_state(api, day, task_id: str, state: str, timeout: float = 50) -> dict:
    """The task instance of ``day``'s run once it is in ``state``."""
    from local import session

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in api.runs("retail_daily"):
            if session.business_date_of(run) == day:
                ti = [t for t in api.task_instances("retail_daily", run["dag_run_id"]) if t["task_id"] == task_id]
                if ti and ti[0]["state"] == state:
                    return ti[0]
        time.sleep(1)
    raise TimeoutError(f"{task_id} of {day} was not {state} within {timeout}s")


def test_a_file_that_arrives_while_its_sensor_waits_is_picked_up_in_the_triggerer(first_runs) -> None:
    api, day1, _, _, runs, deferred = first_runs
    assert deferred["state"] == "deferred" and deferred["try_number"] == 1
    (sensor,) = [
        t for t in api.task_instances("retail_daily", runs[day1]["dag_run_id"]) if t["task_id"] == deferred["task_id"]
    ]
    assert sensor["state"] == "success" and sensor["try_number"] == 1, "found by the trigger, not by a retry"


def test_runs_end_as_their_inputs_deserve(first_runs) -> None:
    api, day1, day2, _, runs, _ = first_runs
    assert runs[day1]["run_type"] == "backfill" and runs[day2]["run_type"] == "scheduled"
    assert runs[day1]["state"] == "success"
    assert runs[day2]["state"] == "failed"
    assert _failed_tasks(api, runs[day2]) == {"ingest_payments.validate_file"}


def test_a_warning_is_recorded_and_the_date_still_publishes(first_runs) -> None:
    """Day 1's store sales carry a product nobody delivered: a warning, never a failure."""
    from local import session

    api, day1, _, _, runs, _ = first_runs
    run_id = runs[day1]["dag_run_id"]
    rows = session.snowflake_hook().get_records(
        f"select task_id, table_name, business_date, passed, severity, detail "
        f"from {WAREHOUSE.qualified(WAREHOUSE.audit, 'DQ_RESULTS')} "
        f"where run_id = %(run_id)s and check_name = 'unknown_product' and not passed",
        parameters={"run_id": run_id},
    )
    assert [r[:5] for r in rows] == [("model_checks.orphans", "SILVER.STORE_SALES", day1, False, "warning")]
    assert "1 rows of this date reference a missing products.product_id" in rows[0][5]
    assert runs[day1]["state"] == "success"
    published = session.snowflake_hook().get_first(
        f"select count(*) from {WAREHOUSE.qualified(WAREHOUSE.gold, 'PUBLICATIONS')} where run_id = %(run_id)s",
        parameters={"run_id": run_id},
    )
    assert published == (1,)


def test_bronze_holds_every_accepted_row_with_lineage(first_runs) -> None:
    _, day1, day2, record, _, _ = first_runs
    for day in (day1, day2):
        for feed in FEED_NAMES:
            rows = _bronze(feed, day)
            generated = record["rows_per_feed"][feed][day.isoformat()]
            if (feed, day) == ("payments", day2):
                assert rows == []  # quarantined: nothing of it loads
            elif (feed, day) == ("store_sales", day1):
                assert len(rows) == generated - 3  # 3 rejected, the unknown product loads
            else:
                assert len(rows) == generated, (feed, day)
            assert all(r[-3] == f"{feed}_{day:%Y%m%d}.csv" and str(r[-1]) == str(day) for r in rows)
            assert [r[-2] for r in rows] == sorted({r[-2] for r in rows}), "one row per source line"


def test_bad_rows_are_in_the_rejects_table(first_runs) -> None:
    from local import session

    _, day1, _, record, _, _ = first_runs
    fault = next(f for f in record["faults"] if f["fault"] == "malformed_rows")
    expected = {d["line"]: d["defect"] for d in fault["defects"] if d["defect"] != "unknown_fk"}
    rejects = session.snowflake_hook().get_records(
        f"select source_file, line_number, reason, raw_line from {WAREHOUSE.qualified(WAREHOUSE.audit, 'LOAD_REJECTS')}"
        f" where feed = 'store_sales' and batch_date = '{day1}' order by line_number"
    )
    assert [r[1] for r in rejects] == sorted(expected)
    assert all(r[0] == f"store_sales_{day1:%Y%m%d}.csv" and r[3] for r in rejects)
    reasons = " | ".join(r[2] for r in rejects)
    assert "8 columns, expected 9" in reasons and "not a timestamp" in reasons and "below 0" in reasons


def test_bucket_layout_after_the_runs(first_runs) -> None:
    from local import session

    _, day1, day2, _, _, _ = first_runs
    assert session.list_keys(f"{LANDING.inbox}/") == []
    assert session.list_keys(f"{LANDING.staging}/") == []
    history = session.list_keys(f"{LANDING.history}/")
    for day in (day1, day2):
        for feed in FEED_NAMES:
            key = LANDING.history_key(feed, day, f"{feed}_{day:%Y%m%d}.csv")
            assert (key in history) == ((feed, day) != ("payments", day2)), key
    assert f"history/orders/year={day1:%Y}/month={day1:%m}/day={day1:%d}/orders_{day1:%Y%m%d}.csv" in history
    quarantined = session.list_keys(f"{LANDING.quarantine}/")
    bad = LANDING.quarantine_key("payments", day2, f"payments_{day2:%Y%m%d}.csv")
    assert bad in quarantined and f"{bad}.reason.json" in quarantined
    notes = session.quarantine_notes()
    reasons = {n.get("file") or n["original_name"]: n["reason"] for n in notes}
    assert "missing ['paid_at']" in reasons[f"payments_{day2:%Y%m%d}.csv"]
    assert "unknown feed 'returns'" in reasons[f"returns_{day2:%Y%m%d}.csv"]
    hostile = [name for name in reasons if "DROP TABLE" in name]
    assert len(hostile) == 1 and "does not match" in reasons[hostile[0]]
    assert all(re.fullmatch(r"[A-Za-z0-9._/=-]+", k) for k in quarantined), "quarantine keys are sanitised"


def test_unrecognised_files_reach_on_call_once(first_runs) -> None:
    from local import session

    _, _, day2, _, _, _ = first_runs
    mails = [m for m in session.mails() if "unrecognised" in m["Subject"]]
    assert len(mails) == 1
    (mail,) = mails
    assert mail["Subject"] == "[retail_daily] 2 unrecognised partner file(s) quarantined"
    body = next(p for p in mail.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert f"returns_{day2:%Y%m%d}.csv" in body
    assert "DROP TABLE" in body and "<code>orders_" in body and "&#x27;" in body  # names escaped
    assert "quarantine/_unrecognised/" in body and "runbooks/ingestion.md" in body


def test_a_quarantined_feed_sends_one_failure_alert_with_what_to_do(first_runs) -> None:
    from local import session

    _, _, day2, _, runs, _ = first_runs
    mails = [m for m in session.mails() if m["Subject"].startswith("[retail_daily] FAILED")]
    assert [m["Subject"] for m in mails] == [
        f"[retail_daily] FAILED ingest_payments.validate_file for {day2} (AirflowFailException)"
    ]
    body = next(p for p in mails[0].walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "header does not match the contract: missing" in body  # the error's first lines
    assert runs[day2]["dag_run_id"] in body and "(no retry left)" in body
    assert "dag_id=retail_daily" in body or "/dags/retail_daily/" in body  # the log URL
    assert f"-s {day2}T00:00:00+00:00 -e {day2}T00:00:00+00:00 --downstream -y" in body and "backfill create" in body
    assert "docs/runbooks/ingestion.md#" in body


def test_the_late_scheduled_run_alerts_once_and_backfills_never(first_runs) -> None:
    """The test stack's deadline is 0 h after the business day, so yesterday's scheduled run is late."""
    from local import session

    _, day1, day2, _, _, _ = first_runs
    late = [m["Subject"] for m in session.mails() if " LATE " in m["Subject"]]
    assert late == [f"[retail_daily] LATE {day2}: not finished 0h after the business day"]
    (mail,) = [m for m in session.mails() if " LATE " in m["Subject"]]
    body = next(p for p in mail.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "on-call.md#late-the-daily-run-has-not-finished-deadline-alert" in body


def _wait_for_mails(subject: str, timeout: float = 120) -> list[str]:
    """Subjects starting with ``subject`` (DAG callbacks mail shortly after the run ends)."""
    from local import session

    deadline = time.monotonic() + timeout
    while not (found := [m["Subject"] for m in session.mails() if m["Subject"].startswith(subject)]):
        if time.monotonic() > deadline:
            break
        time.sleep(3)
    return found


def test_ledger_records_every_file(first_runs) -> None:
    from local import session

    _, day1, day2, _, _, _ = first_runs
    rows = session.snowflake_hook().get_records(
        f"select feed, batch_date, status, deliveries from {WAREHOUSE.qualified(WAREHOUSE.audit, 'FILE_LOADS')}"
    )
    assert ("payments", day2, "QUARANTINED", 1) in rows
    assert sum(s == "LOADED" for _, _, s, _ in rows) == 15
    assert sorted((f, s) for f, _, s, _ in rows if f == "_unrecognised") == [("_unrecognised", "QUARANTINED")] * 2
    assert len(rows) == 18


def test_rerunning_the_dates_changes_nothing_and_loads_the_corrected_file(first_runs) -> None:
    from local import session

    api, day1, day2, record, _, _ = first_runs
    before = _snapshot([day1])
    # the partner re-sends day 2 (a corrected payments file; the rest byte-identical)
    _generate(day2, 1)
    backfill = session.backfill(api, day1, day2, reprocess="completed")
    api.wait_for_backfill(backfill, RUN_TIMEOUT, check=stack_alive)
    runs = {session.business_date_of(r): r for r in api.runs("retail_daily")}
    assert runs[day1]["state"] == runs[day2]["state"] == "success", _failed_tasks(api, runs[day2])

    after = _snapshot([day1])
    assert after == before, "re-running a date whose files are unchanged must change nothing"
    assert len(_bronze("payments", day2)) == record["rows_per_feed"]["payments"][day2.isoformat()]
    for feed in FEED_NAMES:  # the re-sent files did not double anything
        assert len(_bronze(feed, day2)) == record["rows_per_feed"][feed][day2.isoformat()] or feed == "payments"
    ledger = session.snowflake_hook().get_records(
        f"select feed, status, deliveries from {WAREHOUSE.qualified(WAREHOUSE.audit, 'FILE_LOADS')} "
        f"where batch_date = '{day2}' and feed <> '_unrecognised'"
    )
    assert sorted((f, s, n) for f, s, n in ledger if f != "payments") == sorted(
        (f, "LOADED", 2) for f in FEED_NAMES if f != "payments"
    ), "the re-sent identical files count as second deliveries, loaded once"
    assert ("payments", "LOADED", 1) in ledger
    assert session.list_keys(f"{LANDING.inbox}/") == []
    # day 2 had failed and now succeeded: on-call hears it once, naming what failed
    assert _wait_for_mails(f"[retail_daily] RECOVERED {day2}") == [f"[retail_daily] RECOVERED {day2}"]
    (mail,) = [m for m in session.mails() if m["Subject"] == f"[retail_daily] RECOVERED {day2}"]
    body = next(p for p in mail.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "ingest_payments.validate_file try 1 (AirflowFailException)" in body

    # and once more: a third run of both dates is a no-op end to end
    snapshot = _snapshot([day1, day2])
    api.wait_for_backfill(session.backfill(api, day1, day2, reprocess="completed"), RUN_TIMEOUT, check=stack_alive)
    assert _snapshot([day1, day2]) == snapshot
    time.sleep(10)  # room for a wrong second notice to arrive
    assert [m["Subject"] for m in session.mails() if "RECOVERED" in m["Subject"]] == [
        f"[retail_daily] RECOVERED {day2}"
    ], "one notice per recovery; day 1 never failed"


def test_files_that_arrive_after_their_date_ran_are_reported_once_and_a_rerun_loads_them(first_runs) -> None:
    """After both dates ran, the partner sends day 1's stores file again, unchanged, and a new
    version of its orders file. The next run's sweep counts the duplicate and tells on-call once
    about the orders file, which waits in the inbox; re-running day 1 loads it."""
    from local import session

    api, day1, day2, _, _, _ = first_runs
    s3, bucket, hook = session.s3_client(), LANDING.bucket, session.snowflake_hook()
    stores, orders = (f"{feed}_{day1:%Y%m%d}.csv" for feed in ("stores", "orders"))
    archived = session.read_object(LANDING.history_key("stores", day1, stores))
    s3.put_object(Bucket=bucket, Key=LANDING.inbox_key(stores), Body=archived)
    header, *lines = session.read_object(LANDING.history_key("orders", day1, orders)).decode().splitlines(True)
    corrected = "".join([header, *reversed(lines)]).encode()  # the same rows, another file
    s3.put_object(Bucket=bucket, Key=LANDING.inbox_key(orders), Body=corrected)
    bronze_before = _bronze("orders", day1)
    subject = "[retail_daily] 1 partner file(s) arrived after their date was processed"

    def ledger(feed: str) -> list[tuple]:
        return sorted(
            hook.get_records(
                f"select file_md5, status, deliveries from {WAREHOUSE.qualified(WAREHOUSE.audit, 'FILE_LOADS')} "
                f"where feed = '{feed}' and batch_date = '{day1}'"
            )
        )

    api.wait_for_backfill(session.backfill(api, day2, day2, reprocess="completed"), RUN_TIMEOUT, check=stack_alive)
    (run,) = [r for r in api.runs("retail_daily") if session.business_date_of(r) == day2]
    assert run["state"] == "success"
    assert _wait_for_mails(subject) == [subject]
    (mail,) = [m for m in session.mails() if m["Subject"] == subject]
    body = next(p for p in mail.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert orders in body and stores not in body and f"--from-date {day1} --to-date {day1}" in body
    new_md5 = hashlib.md5(corrected).hexdigest()
    assert (new_md5, "LATE", 1) in ledger("orders") and len(ledger("orders")) == 2
    assert ledger("stores") == [(hashlib.md5(archived).hexdigest(), "LOADED", 2)], "the duplicate is counted"
    assert session.list_keys(f"{LANDING.inbox}/") == [LANDING.inbox_key(orders)]
    assert _bronze("orders", day1) == bronze_before, "nothing loads without a re-run of the date"

    # the sweep again (its task cleared alone): the waiting file is not reported twice
    run_id = run["dag_run_id"]
    sweeps = f"/dags/retail_daily/dagRuns/{run_id}/taskInstances/sweep_inbox/tries"
    tries = len(api.request("GET", sweeps)["task_instances"])
    api.request(
        "POST",
        "/dags/retail_daily/clearTaskInstances",
        {"dag_run_id": run_id, "task_ids": ["sweep_inbox"], "dry_run": False, "only_failed": False},
    )
    deadline = time.monotonic() + 300
    while True:
        ti = api.request("GET", sweeps)
        if len(ti["task_instances"]) > tries and ti["task_instances"][-1]["state"] == "success":
            break
        assert time.monotonic() < deadline, ti["task_instances"][-1]
        time.sleep(2)
    time.sleep(5)
    assert [m["Subject"] for m in session.mails()].count(subject) == 1

    # on-call re-runs day 1: the new version wins, the one it replaces stays in history
    api.wait_for_backfill(session.backfill(api, day1, day1, reprocess="completed"), RUN_TIMEOUT, check=stack_alive)
    assert [r["state"] for r in api.runs("retail_daily") if session.business_date_of(r) == day1] == ["success"]
    order_ids = [row[0] for row in csv.reader(io.StringIO("".join(reversed(lines))))]
    assert [row[0] for row in _bronze("orders", day1)] == order_ids
    assert (new_md5, "LOADED", 1) in ledger("orders"), "loading the reported file is not another delivery"
    assert session.list_keys(f"{LANDING.inbox}/") == []
    history = session.list_keys(LANDING.history_key("orders", day1, orders))
    assert session.read_object(history[0]) == corrected and len(history) == 2 and ".superseded-" in history[1]


def test_a_date_without_any_file_fails_clearly_and_alerts_once(first_runs) -> None:
    """Replaying a date whose partners delivered nothing: every sensor times out, one mail says so."""
    from local import session

    api = first_runs[0]
    day = date(2026, 10, 1)  # no module generates files for it
    api.wait_for_backfill(session.backfill(api, day, day), RUN_TIMEOUT, check=stack_alive)
    (run,) = [r for r in api.runs("retail_daily") if session.business_date_of(r) == day]
    assert run["state"] == "failed"
    assert _failed_tasks(api, run) == {f"ingest_{feed}.wait_for_file" for feed in FEED_NAMES}
    time.sleep(5)  # the last sensors' callbacks
    mails = [m for m in session.mails() if str(day) in m["Subject"]]
    assert [m["Subject"] for m in mails] == [
        f"[retail_daily] FAILED {len(FEED_NAMES)} files missing for {day}: {', '.join(FEED_NAMES)}"
    ]


def test_simulator_writes_to_the_s3_server(stack) -> None:
    from local import session

    request = GenerateRequest(
        start=session.yesterday(), days=1, scale=0.1, seed=1, out=f"s3://{LANDING.bucket}/simulator-check"
    )
    record = generate(request, progress=False)
    keys = session.list_keys("simulator-check/")
    assert keys == sorted(f"simulator-check/{f['name']}" for f in record["files"])
    assert os.environ["AWS_ENDPOINT_URL_S3"].startswith("http://127.0.0.1")
