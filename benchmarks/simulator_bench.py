"""Simulator benchmark: one business day at about 100,000 orders (scale 50), all feeds written.

Each measurement runs in a fresh process so peak RSS is that run's own. Prints the median of
the repeats for one day, and the peak RSS of a multi-day run to show memory does not grow with
the number of days (files are written one by one).

    .venv/bin/python benchmarks/simulator_bench.py [--scale 50] [--repeats 3] [--days 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 10.0

CHILD = """
import json, resource, sys, time
from datetime import date
import pyarrow, pandas  # imports are not part of the measured time
from include.simulator.run import GenerateRequest, generate
scale, days, out = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t = time.perf_counter()
record = generate(GenerateRequest(start=date(2026, 3, 2), days=days, scale=scale, seed=42, out=out), progress=False)
seconds = time.perf_counter() - t
placed = None
print(json.dumps({
    "seconds": seconds,
    "rows": sum(record["rows_total"].values()),
    "orders_rows": record["rows_total"]["orders"],
    "payments_rows": record["rows_total"]["payments"],
    "bytes": sum(f["bytes"] for f in record["files"]),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def measure(scale: float, days: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-c", CHILD, str(scale), str(days), out],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--days", type=int, default=3)
    args = parser.parse_args()

    one_day = [measure(args.scale, 1) for _ in range(args.repeats)]
    seconds = statistics.median(r["seconds"] for r in one_day)
    rows = one_day[0]["rows"]
    rss_one = statistics.median(r["peak_rss_mb"] for r in one_day)
    print(f"scale {args.scale:g}, one business day, all 8 feeds written as CSV")
    print(
        f"  orders (payments ~ orders placed): {one_day[0]['payments_rows']:,} payments, "
        f"{one_day[0]['orders_rows']:,} order event rows"
    )
    print(f"  rows written:  {rows:,} ({one_day[0]['bytes'] / 1e6:.1f} MB)")
    print(
        f"  seconds:       median {seconds:.2f} of {[round(r['seconds'], 2) for r in one_day]}"
        f"  (target <= {TARGET_SECONDS:g}: {'met' if seconds <= TARGET_SECONDS else 'NOT met'})"
    )
    print(f"  rows/s:        {rows / seconds:,.0f}")
    print(f"  peak RSS:      {rss_one:.0f} MB")
    multi = measure(args.scale, args.days)
    print(f"{args.days} business days in one run")
    print(f"  seconds:       {multi['seconds']:.2f} ({multi['seconds'] / args.days:.2f} per day)")
    print(f"  peak RSS:      {multi['peak_rss_mb']:.0f} MB  (ratio to one day: {multi['peak_rss_mb'] / rss_one:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
