"""`make demo`: the daily pipeline for one week on the embedded local stack, through the real
Airflow scheduler, from a clean state.

1. start the stack from scratch (S3, Snowflake stand-in, SMTP, Airflow) and bootstrap the warehouse;
2. generate the week ending yesterday into the S3 inbox, with a few partner mistakes injected;
3. unpause the daily DAG (the scheduler runs yesterday as its normal daily run) and backfill the
   six days before it, as an operator would from the UI;
4. print what happened and exit 0 when every date ended as expected.

Set RCT_KEEP_STACK=1 to leave the stack running afterwards (otherwise `make up` restarts it with
all the state the demo left).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date, datetime, timedelta

from local import stack

DAYS = 7
SCALE = float(os.environ.get("RCT_DEMO_SCALE", "1"))


def demo_faults(first: date) -> dict[str, tuple[str, bool]]:
    """Fault spec -> (what an operator would see, whether the date's run fails)."""
    d = [first + timedelta(days=i) for i in range(DAYS)]
    return {
        f"malformed_rows@{d[1]}": ("4 bad store_sales rows: 3 rejected, 1 unknown product loaded", False),
        f"non_utf8@{d[2]}": (
            "2 customers rows with Latin-1 bytes rejected; one of them ordered that day, so the MODEL check "
            "stops the run (orphan_orders) before GOLD",
            True,
        ),
        f"missing_column:orders@{d[3]}": (
            "orders file without a column quarantined, run fails; later runs republish that day from "
            "partial input with an inputs_complete warning",
            True,
        ),
        f"hostile_name@{d[4]}": ("file named to break SQL: quarantined by sweep_inbox, one mail to on-call", False),
    }


def _progress(start: float):
    def show(runs: list[dict]) -> None:
        done = [r for r in runs if r["state"] in ("success", "failed")]
        ok = sum(r["state"] == "success" for r in done)
        print(
            f"  [{time.monotonic() - start:5.0f}s] {len(done)}/{len(runs)} runs finished "
            f"({ok} success, {len(done) - ok} failed)",
            flush=True,
        )

    return show


def main() -> int:
    started = time.monotonic()
    keep = os.environ.get("RCT_KEEP_STACK") == "1"
    try:
        stack.reset()
        stack.up()
        # quiet hook INFO logs in this process only (the services started above keep theirs)
        os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
        from include.simulator.run import GenerateRequest, generate
        from local import session
        from local.airflow_api import AirflowAPI

        session.use_stack_env()
        api = AirflowAPI()
        print("Bootstrapping the warehouse (retail_warehouse_setup)")
        session.run_setup(api)

        last = session.yesterday()
        first = last - timedelta(days=DAYS - 1)
        faults = demo_faults(first)
        print(f"Generating {DAYS} business days {first} .. {last} at scale {SCALE:g} into the S3 inbox")
        record = generate(
            GenerateRequest(
                start=first,
                days=DAYS,
                scale=SCALE,
                seed=42,
                out=f"s3://{os.environ['RETAIL_LANDING_BUCKET']}/inbox",
                inject=tuple(faults),
            ),
            record_dir=stack.STATE / "simulator_runs",
            progress=False,
        )
        print(
            f"  {len(record['files'])} files, {sum(record['rows_total'].values()):,} rows, "
            f"{len(record['faults'])} faults injected"
        )

        print(
            "Running the daily DAG through the scheduler: yesterday as the scheduled run, "
            "the six days before as a backfill"
        )
        api.wait_for_dag(session.DAILY_DAG)
        # unpausing lets the scheduler run yesterday itself; the backfill covers the days before
        session.backfill(api, first, last - timedelta(days=1), max_active_runs=3)

        def in_week(run: dict) -> bool:
            return first <= session.business_date_of(run) <= last

        runs = api.wait_for_runs(
            session.DAILY_DAG, in_week, DAYS, timeout=1800, progress=_progress(started), check=stack.assert_running
        )
        return summary(api, runs, faults, record, started)
    except Exception as exc:  # say what failed, then clean up below
        print(f"\nDEMO FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"Service logs: {stack.LOGS}", file=sys.stderr)
        keep = False
        return 1
    finally:
        if not keep:
            stack.down()


def summary(api, runs, faults, record, started) -> int:
    from include import operator_commands as commands
    from include.config import WAREHOUSE
    from include.contracts import load_contract
    from local import session

    hook = session.snowflake_hook()
    expected_failures = {spec.split("@")[1] for spec, (_, fails) in faults.items() if fails}
    print("\n=== Retail Control Tower demo summary ===")
    print("\nRuns of retail_daily (business date: state):")
    surprises, reruns = [], []
    task_ids = [t["task_id"] for t in api.request("GET", f"/dags/{session.DAILY_DAG}/tasks")["tasks"]]
    for run in sorted(runs, key=session.business_date_of):
        day = session.business_date_of(run).isoformat()
        failed = [
            t["task_id"] for t in api.task_instances(session.DAILY_DAG, run["dag_run_id"]) if t["state"] == "failed"
        ]
        note = f"  failed tasks: {', '.join(failed)}" if failed else ""
        print(f"  {day}  {run['run_type']:9s} {run['state']:8s}{note}")
        if (run["state"] == "failed") != (day in expected_failures):
            surprises.append(day)
        if failed and run.get("logical_date"):
            logical = datetime.fromisoformat(run["logical_date"].replace("Z", "+00:00"))
            reruns += [commands.clear_task(session.DAILY_DAG, task, logical, task_ids) for task in failed]
    if reruns:
        print("Re-run a failed task and what depends on it, after fixing its cause (the alert mail has the same;")
        print("on this stack prefix it with local/, after `make up` or with RCT_KEEP_STACK=1):")
        for command in reruns:
            print(f"  {command}")

    print("\nRows in BRONZE (all dates):")
    for feed in load_contract().feeds.values():
        (rows,) = hook.get_first(f"select count(*) from {WAREHOUSE.qualified(WAREHOUSE.bronze, feed.table)}")
        print(f"  {feed.table:22s} {rows:>9,}")
    rejects = hook.get_records(
        f"select feed, count(*) from {WAREHOUSE.qualified(WAREHOUSE.audit, 'LOAD_REJECTS')} group by feed order by feed"
    )
    print("\nRejected rows (AUDIT.LOAD_REJECTS):", ", ".join(f"{f} {n}" for f, n in rejects) or "none")
    gold = hook.get_records(
        f"select revenue_date, orders, customers, net_revenue, avg_order_value, completeness, missing_feeds from "
        f"{WAREHOUSE.qualified(WAREHOUSE.gold, 'V_KPI_DAILY_REVENUE')} where channel = 'all' order by revenue_date"
    )
    print(
        "\nGOLD per day, all channels (GOLD.V_KPI_DAILY_REVENUE; online by order date, stores by sale date;"
        " distinct orders/transactions and customers):"
    )
    for day, orders, customers, net, aov, status, missing in gold:
        note = f"  {status}" + (f" (missing: {missing})" if missing else "")
        money = f"{float(net):>13,.2f}  AOV {float(aov):>7,.2f}"
        print(f"  {day}  {orders:>6,} orders  {customers:>6,} customers  {money}{note}")
    findings = hook.get_records(
        f"select severity, check_name, table_name, business_date, detail from "
        f"{WAREHOUSE.qualified(WAREHOUSE.audit, 'V_DQ_FAILURES')} order by severity, business_date, check_name"
    )
    print("\nData-quality findings (AUDIT.V_DQ_FAILURES):" + ("" if findings else " none"))
    for severity, check, table, day, detail in findings:
        print(f"  {severity:8s} {day} {check} on {table}: {detail}")
    print("\nQuarantined files (bucket quarantine/, reason beside each):")
    for note in session.quarantine_notes():
        print(f"  {note.get('file') or note.get('original_name')!r}: {note['reason']}")
    print("\nInjected faults and what they should show:")
    for spec, (what, _) in faults.items():
        print(f"  {spec:34s} {what}")
    mails = session.mails()
    print(f"\nAlert mails received by the local SMTP server: {len(mails)} (in {stack.MAILDIR})")
    for subject in sorted(m["Subject"] for m in mails):
        print(f"  {subject}")
    print(f"\nFinished in {time.monotonic() - started:.0f}s.")
    print("Where to look next:")
    print("  make up            restart the stack with this state, then open the Airflow UI")
    print(f"  {stack.login_hint()}")
    print("  Control Tower:     the UI's navigation, or /control-tower/ (these dates, their problems, what to do)")
    print(f"  bucket files:      {stack.S3_ROOT}/{os.environ['RETAIL_LANDING_BUCKET']}/(inbox|history|quarantine)")
    print("  runbooks:          docs/runbooks/")
    if surprises:
        print(f"\nUNEXPECTED run states for {', '.join(surprises)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
