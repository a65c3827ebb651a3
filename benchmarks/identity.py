"""Identity proof at a larger scale than the test: N dates in order vs newest first in parallel.

    .venv/bin/python -m benchmarks.identity [--days 14] [--scale 1] [--parallel 4]

On its own local stack (var/identity-stack): generates the dates into the inbox, then
1. a fresh warehouse, the dates backfilled one at a time in order;
2. a fresh warehouse, the same dates as one backfill run backwards, --parallel at a time;
3. the completed range re-run ("all runs") on top of 2;
and compares every SILVER, MODEL, GOLD and ML table's content hash (load timestamps and run ids
aside). Prints the differences (none expected), each pass's wall time, and exits 1 on any
difference. The test (tests/integration/test_identity.py) does the same on ten small dates, plus a
corrected file.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=date.fromisoformat, default=date(2026, 5, 4))
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args(argv)
    os.environ.setdefault("RCT_STATE_DIR", str(REPO / "var" / "identity-stack"))
    for name, port in (("AIRFLOW", 38180), ("S3", 39180), ("SNOWFLAKE", 39181), ("SMTP", 39182), ("POSTGRES", 39183)):
        os.environ.setdefault(f"RCT_{name}_PORT", str(port))

    from include.config import LANDING
    from include.simulator.run import GenerateRequest, generate
    from local import identity, session, stack
    from local.airflow_api import AirflowAPI

    stack.reset()
    try:
        stack.up()
        session.use_stack_env()
        api = AirflowAPI()
        session.run_setup(api)
        api.wait_for_dag(session.DAILY_DAG)
        hook = session.snowflake_hook()
        out = f"s3://{LANDING.bucket}/{LANDING.inbox}"
        generate(GenerateRequest(start=args.first, days=args.days, scale=args.scale, seed=42, out=out), progress=False)
        common = dict(
            api=api, hook=hook, first=args.first, days=args.days, timeout=6 * 3600, check=stack.assert_running
        )
        passes = [
            identity.run_pass(**common, name="in order", max_active_runs=1, backwards=False, fresh=True),
            identity.run_pass(
                **common, name=f"newest first, {args.parallel} at a time", max_active_runs=args.parallel,
                backwards=True, fresh=True,
            ),
            identity.run_pass(**common, name="re-run all", max_active_runs=args.parallel, backwards=False, fresh=False),
        ]  # fmt: skip
    finally:
        stack.down()
    failed = 0
    for p in passes:
        bad = {d: s for d, s in p.states.items() if s != "success"}
        print(f"{p.name:32s} {p.seconds / 60:6.1f} min  {len(p.states)} runs  {'all succeeded' if not bad else bad}")
        failed += bool(bad)
    tables = passes[0].hashes
    rows = sum(h.rows for h in tables.values())
    print(f"compared {len(tables)} tables, {rows:,} rows")
    for a, b in ((passes[0], passes[1]), (passes[1], passes[2])):
        diff = identity.differences(a.hashes, b.hashes)
        print(f"{a.name} vs {b.name}: {'identical' if not diff else diff}")
        for table, (x, y) in diff.items():
            if x and y and (x.lines or y.lines):
                print(f"  {table}: {identity.differing_rows(x, y)}")
        failed += bool(diff)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
