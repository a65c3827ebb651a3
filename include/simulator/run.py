"""Generation runs: write a date range of feeds, record what was done, compare two runs."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv as pcsv
from tqdm import tqdm

from include.simulator import faults as fault_lib
from include.simulator.generator import FeedSimulator
from include.simulator.reference import Reference, flatten, load_reference
from include.simulator.sinks import Sink, open_sink

CSV_OPTIONS = pcsv.WriteOptions(include_header=True, quoting_style="needed")


def to_csv(table: Any) -> bytes:
    buf = io.BytesIO()
    pcsv.write_csv(table, buf, CSV_OPTIONS)
    return buf.getvalue()


@dataclass(frozen=True)
class GenerateRequest:
    start: date
    days: int
    scale: float
    seed: int
    out: str
    inject: tuple[str, ...] = ()
    reference_path: str | None = None

    @property
    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]


def generate(
    request: GenerateRequest,
    sink: Sink | None = None,
    record_dir: str | Path | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Generate ``request.days`` business days of every feed and return the run record.

    Files are written one by one as they are made, so memory does not grow with the range.
    """
    if request.days < 1:
        raise ValueError("--days must be at least 1")
    started = time.perf_counter()
    reference = load_reference(request.reference_path)
    sim = FeedSimulator(reference, request.seed, request.scale)
    specs = [fault_lib.FaultSpec.parse(text, request.start) for text in request.inject]
    for spec in specs:
        if spec.day not in request.dates:
            raise ValueError(f"fault {spec.name} targets {spec.day}, outside the generated range")
    sink = sink or open_sink(request.out)
    record: dict[str, Any] = {
        "run_id": uuid.uuid4().hex,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": {
            "start": request.start.isoformat(),
            "days": request.days,
            "end": request.dates[-1].isoformat(),
            "scale": request.scale,
            "seed": request.seed,
            "out": sink.location,
            "inject": list(request.inject),
        },
        "reference": {"path": reference.path, "checksum": reference.checksum, "values": flatten(reference.raw)},
        "rows_per_feed": {},
        "files": [],
        "faults": [],
    }
    for d in tqdm(request.dates, desc="business days", unit="day", disable=progress is False or None):
        tables = sim.day_tables(d)
        wants_orders = any(spec.name == "non_utf8" and spec.day == d for spec in specs)
        ordered_by = set(tables["orders"].column("customer_id").to_pylist()) if wants_orders else None
        for feed, table in tables.items():
            delivery = fault_lib.Delivery(f"{feed}_{d:%Y%m%d}.csv", to_csv(table))
            extra: list[fault_lib.Delivery] = []
            for spec in specs:
                if spec.feed == feed and spec.day == d:
                    extra += fault_lib.apply(spec, delivery, request.seed, ordered_by)
            for item in (delivery, *extra):
                for _ in range(item.uploads):
                    sink.put(item.name, item.body)
                record["files"].append({"name": item.name, "bytes": len(item.body), "uploads": item.uploads})
                record["faults"] += item.faults
            record["rows_per_feed"].setdefault(feed, {})[d.isoformat()] = table.num_rows
    record["rows_total"] = {feed: sum(days.values()) for feed, days in record["rows_per_feed"].items()}
    record["duration_s"] = round(time.perf_counter() - started, 3)
    if record_dir is not None:
        save_record(record, record_dir)
    return record


def save_record(record: dict[str, Any], record_dir: str | Path) -> Path:
    path = Path(record_dir) / f"{record['run_id']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")
    return path


def load_record(ref: str, record_dir: str | Path) -> dict[str, Any]:
    path = Path(ref)
    if not path.exists():
        path = Path(record_dir) / f"{ref}.json"
    if not path.exists():
        raise FileNotFoundError(f"no run record {ref!r} (looked in {record_dir})")
    return json.loads(path.read_text(encoding="utf-8"))


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """What differs between two runs: parameters, reference values and rows per feed."""
    params = {
        k: (a["parameters"].get(k), b["parameters"].get(k))
        for k in sorted(set(a["parameters"]) | set(b["parameters"]))
        if a["parameters"].get(k) != b["parameters"].get(k)
    }
    va, vb = a["reference"]["values"], b["reference"]["values"]
    reference = {k: (va.get(k), vb.get(k)) for k in sorted(set(va) | set(vb)) if va.get(k) != vb.get(k)}
    feeds = sorted(set(a["rows_total"]) | set(b["rows_total"]))
    rows = {}
    for feed in feeds:
        ra, rb = a["rows_total"].get(feed, 0), b["rows_total"].get(feed, 0)
        rows[feed] = {"a": ra, "b": rb, "change_pct": round(100.0 * (rb - ra) / ra, 2) if ra else None}
    return {
        "a": a["run_id"],
        "b": b["run_id"],
        "same_reference": a["reference"]["checksum"] == b["reference"]["checksum"],
        "parameters": params,
        "reference": reference,
        "rows": rows,
    }


def ground_truth(cutoff: date, seed: int, scale: float, reference: Reference | None = None) -> dict[str, Any]:
    """True churn probability and label per customer at ``cutoff`` (never read by the pipeline).

    Label: the customer places no online order in the ``churn_horizon_days`` after the cut-off.
    Probability: the chance of that under the simulator's own model, the best any model can do.
    """
    sim = FeedSimulator(reference or load_reference(), seed, scale)
    horizon = int(sim.ref["churn_horizon_days"])
    c = sim.day_index(cutoff)
    ids, probs, labels, signup = [], [], [], []
    for s in range(max(0, c - sim.max_age + 1), c + 1):
        cohort = sim.cohort(s)
        log_stay = np.zeros(cohort.segment.size)
        ordered = np.zeros(cohort.segment.size, dtype=bool)
        for day in range(c + 1, c + horizon + 1):
            p = sim.order_probability(cohort, day)
            log_stay += np.log1p(-p)
            ordered |= sim.orders_placed_by_existing(day, cohort)
        ids.append(cohort.gid)
        probs.append(np.exp(log_stay))
        labels.append(~ordered)
        signup.append(np.full(cohort.segment.size, s))
    from include.simulator.generator import customer_ids

    gid = np.concatenate(ids)
    return {
        "customer_id": customer_ids(gid),
        "signup_date": [sim.day_date(int(s)).isoformat() for s in np.concatenate(signup)],
        "true_churn_probability": np.round(np.concatenate(probs), 6),
        "churned": np.concatenate(labels).astype(int),
    }


def observable_churn_probability(
    cutoff: date, seed: int, scale: float, reference: Reference | None = None, nodes: int = 24
) -> dict[str, Any]:
    """The best churn probability any model can compute from what the feeds show, per customer.

    A customer's base order rate and its decay are drawn around the segment's values and never
    shown; their orders' timing is the only trace of them (order values, statuses, payments and
    store visits do not depend on them). Given the segment at signup, the signup day and the days
    of every online order up to ``cutoff``, Bayes' rule over the two hidden draws (a Gauss-Hermite
    grid of ``nodes`` x ``nodes``) gives the probability of no order in the label window. Ranking by
    it reaches the highest ROC AUC any function of that history can (the Neyman-Pearson lemma):
    the ceiling a model can actually approach, below :func:`ground_truth`'s, which knows the draws.

    The same customers as :func:`ground_truth` (within their ordering life), with ``ordered_days``
    (online orders after signup, up to ``cutoff``) for checks.
    """
    sim = FeedSimulator(reference or load_reference(), seed, scale)
    horizon = int(sim.ref["churn_horizon_days"])
    c = sim.day_index(cutoff)
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    z_rate, z_life = (g.ravel() for g in np.meshgrid(z, z, indexing="ij"))
    log_prior = np.log(np.outer(w, w).ravel() / w.sum() ** 2)
    ages = np.arange(1, sim.max_age + 1)
    # base rate and log decay by segment and grid point, drawn as FeedSimulator._rates draws them
    base = sim.rate_scale * sim.seg_freq[:, None] * np.exp(0.5 * z_rate)[None, :]
    decay = sim.log_decay_unit / (sim.seg_life[:, None] * np.exp(0.5 * z_life)[None, :])
    ids, probs, counts = [], [], []
    for s in range(max(0, c - sim.max_age + 1), c + 1):
        cohort = sim.cohort(s)
        seen = c - s  # days of history after signup
        # order probability by segment, grid point and age, as FeedSimulator.order_probability
        with np.errstate(divide="ignore", under="ignore"):
            p = np.minimum(base[..., None] * np.exp(ages * decay[..., None]) * sim.weekday_factor(s + ages), 0.9)
            log_stay = np.log1p(-p)
            log_odds = np.log(p) - log_stay  # -inf where an order is impossible
        seg = cohort.segment.astype(np.intp)
        log_post = log_stay[:, :, :seen].sum(axis=2)[seg] + log_prior  # customers x grid
        ordered = np.zeros(seg.size, dtype=np.int64)
        for age in range(1, seen + 1):
            hit = np.flatnonzero(sim.orders_placed_by_existing(s + age, cohort))
            log_post[hit] += log_odds[seg[hit], :, age - 1]
            ordered[hit] += 1
        log_post -= log_post.max(axis=1, keepdims=True)
        post = np.exp(log_post)
        future = np.exp(log_stay[:, :, seen : seen + horizon].sum(axis=2))[seg]
        probs.append((post * future).sum(axis=1) / post.sum(axis=1))
        ids.append(cohort.gid)
        counts.append(ordered)
    from include.simulator.generator import customer_ids

    return {
        "customer_id": customer_ids(np.concatenate(ids)),
        "observable_churn_probability": np.round(np.concatenate(probs), 6),
        "ordered_days": np.concatenate(counts),
    }


def write_ground_truth(columns: dict[str, Iterable[Any]], path: str | Path) -> None:
    import pandas as pd

    pd.DataFrame(columns).to_csv(path, index=False)
