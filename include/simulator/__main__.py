"""Command line of the partner feed simulator.

    python -m include.simulator generate --start 2026-01-05 --days 7 --scale 1 --seed 42 \\
        --out s3://retail-landing/inbox --inject missing_column:orders@2026-01-07
    python -m include.simulator compare RUN_A RUN_B
    python -m include.simulator ground-truth --cutoff 2026-03-31 --seed 42 --out truth.csv
    python -m include.simulator faults
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date

from include.simulator import faults as fault_lib
from include.simulator.run import GenerateRequest, compare, generate, ground_truth, load_record, write_ground_truth

DEFAULT_RECORD_DIR = os.environ.get("SIMULATOR_RUNS_DIR", "var/simulator_runs")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m include.simulator", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write one CSV per feed per business day")
    g.add_argument("--start", type=date.fromisoformat, required=True, help="first business date, YYYY-MM-DD")
    g.add_argument("--days", type=int, default=1)
    g.add_argument("--scale", type=float, default=1.0, help="1 is about 2,000 orders a day")
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--out", required=True, help="a directory or s3://bucket/prefix")
    g.add_argument("--inject", default="", help="comma-separated faults, each name[:feed][@YYYY-MM-DD]")
    g.add_argument("--reference", default=None, help="reference YAML (default: the versioned one)")
    g.add_argument("--record-dir", default=DEFAULT_RECORD_DIR, help="where run records are kept")

    c = sub.add_parser("compare", help="compare two run records (ids or paths)")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--record-dir", default=DEFAULT_RECORD_DIR)

    t = sub.add_parser("ground-truth", help="true churn probability and label per customer")
    t.add_argument("--cutoff", type=date.fromisoformat, required=True)
    t.add_argument("--scale", type=float, default=1.0)
    t.add_argument("--seed", type=int, default=42)
    t.add_argument("--out", required=True, help="CSV path")

    sub.add_parser("faults", help="list the faults --inject accepts")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "generate":
            request = GenerateRequest(
                start=args.start,
                days=args.days,
                scale=args.scale,
                seed=args.seed,
                out=args.out,
                inject=tuple(x for x in args.inject.split(",") if x.strip()),
                reference_path=args.reference,
            )
            record = generate(request, record_dir=args.record_dir)
            total = sum(record["rows_total"].values())
            print(
                f"run {record['run_id']}: {len(record['files'])} files, {total:,} rows, "
                f"{len(record['faults'])} faults, {record['duration_s']} s -> {record['parameters']['out']}"
            )
            print(f"run record: {args.record_dir}/{record['run_id']}.json")
        elif args.command == "compare":
            diff = compare(load_record(args.a, args.record_dir), load_record(args.b, args.record_dir))
            print(json.dumps(diff, indent=2))
        elif args.command == "ground-truth":
            write_ground_truth(ground_truth(args.cutoff, args.seed, args.scale), args.out)
            print(f"wrote {args.out}")
        elif args.command == "faults":
            for name, (feed, what) in fault_lib.FAULTS.items():
                print(f"{name:20s} default feed {feed:12s} {what}")
    except (ValueError, FileNotFoundError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
