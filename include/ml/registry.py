"""Champion/challenger: the promotion rule, and the registry, metrics and score tables.

Every write replaces the business date's rows in one transaction (delete + COPY), so a re-run
of a date leaves exactly one copy. The champion at a date is the latest model promoted by a run
of that date or an earlier one, so a backfill of an old date compares against what was champion
then.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from include.config import WAREHOUSE
from include.sql_render import render_sql
from include.warehouse import one_connection, put_file, rows_loaded, transaction

# Every candidate must be calibrated well enough to act on its probabilities (holdout ECE) ...
MAX_ECE = 0.05
# ... and beats the champion only when the lower end of this confidence interval on the
# difference of their holdout ROC AUC (paired bootstrap on the same customers) is above zero.
CONFIDENCE = 0.95
BOOTSTRAP_SAMPLES = 200
# A champion older than this (days since the run that promoted it) is retired.
MAX_CHAMPION_AGE_DAYS = 180


@dataclass(frozen=True)
class Contender:
    """A candidate of this run, or the champion, as measured on this run's holdout."""

    name: str
    metrics: dict[str, float]  # evaluate() of its holdout scores
    scores: Any  # its holdout probabilities (numpy array), in the holdout's row order


@dataclass(frozen=True)
class Champion:
    model_id: str
    age_days: int
    on_holdout: Contender | None  # None: it could not be loaded or scored
    error: str | None = None


@dataclass(frozen=True)
class Decision:
    promote: str | None  # the candidate's name, or None
    reason: str
    compared: str | None = None  # the candidate measured against the champion
    gate_failures: dict[str, str] | None = None  # candidate name -> why it cannot be promoted


def auc_difference_interval(
    y: Any, challenger: Any, champion: Any, seed: int, samples: int = BOOTSTRAP_SAMPLES, confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """(difference, low, high): challenger AUC - champion AUC on the same customers, and its
    percentile interval from a paired bootstrap (the same resampled customers for both)."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    y, a, b = np.asarray(y), np.asarray(challenger), np.asarray(champion)
    rng = np.random.default_rng(seed)
    differences = []
    for _ in range(samples):
        i = rng.integers(0, len(y), len(y))
        if y[i].min() == y[i].max():
            continue  # one class only: no AUC
        differences.append(roc_auc_score(y[i], a[i]) - roc_auc_score(y[i], b[i]))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(differences, [tail, 100 - tail])
    return float(roc_auc_score(y, a) - roc_auc_score(y, b)), float(low), float(high)


def decide(
    candidates: Sequence[Contender],
    champion: Champion | None,
    y: Any,
    seed: int,
    max_ece: float = MAX_ECE,
    max_age_days: int = MAX_CHAMPION_AGE_DAYS,
) -> Decision:
    """Which candidate, if any, becomes champion. See docs/ml.md, "Promotion".

    1. Gates: a candidate whose holdout ECE exceeds ``max_ece`` can never be promoted; every
       other candidate is considered, the best holdout ROC AUC first.
    2. The champion is retired when it cannot be loaded or scored, is older than
       ``max_age_days``, or its ECE on this holdout exceeds ``max_ece``: the best gated
       candidate then replaces it without having to beat it.
    3. Otherwise the best gated candidate replaces it only when the lower end of the
       bootstrap interval of their AUC difference on this holdout is above zero.
    """
    failures = {
        c.name: f"holdout ECE {c.metrics['ece']:.4f} > {max_ece}" for c in candidates if c.metrics["ece"] > max_ece
    }
    eligible = sorted((c for c in candidates if c.name not in failures), key=lambda c: -c.metrics["roc_auc"])
    best = eligible[0] if eligible else None
    described = ""
    if best is not None:
        described = f"{best.name} (holdout ROC AUC {best.metrics['roc_auc']:.4f}, ECE {best.metrics['ece']:.4f})"
    none_pass = "no candidate passes the gates (" + "; ".join(f"{n}: {r}" for n, r in failures.items()) + ")"

    retire = None
    if champion is not None:
        if champion.on_holdout is None:
            retire = f"champion {champion.model_id} could not be loaded or scored: {champion.error}"
        elif champion.age_days > max_age_days:
            retire = f"champion {champion.model_id} is {champion.age_days} days old (> {max_age_days})"
        elif champion.on_holdout.metrics["ece"] > max_ece:
            ece = champion.on_holdout.metrics["ece"]
            retire = f"champion {champion.model_id} is miscalibrated on this holdout (ECE {ece:.4f} > {max_ece})"

    if best is None:
        if retire:
            return Decision(None, f"not promoted: {retire}, but {none_pass}; it keeps scoring", None, failures)
        return Decision(None, f"not promoted: {none_pass}", None, failures)
    if champion is None:
        return Decision(best.name, f"promoted {described}: no champion yet", best.name, failures)
    if retire:
        return Decision(best.name, f"promoted {described}: {retire}, retired", best.name, failures)

    diff, low, high = auc_difference_interval(y, best.scores, champion.on_holdout.scores, seed)
    versus = (
        f"ROC AUC {diff:+.4f} against the champion's {champion.on_holdout.metrics['roc_auc']:.4f} "
        f"({CONFIDENCE:.0%} interval {low:+.4f} to {high:+.4f})"
    )
    if low > 0:
        return Decision(best.name, f"promoted {described}: {versus}, beats the champion", best.name, failures)
    return Decision(None, f"not promoted: {described}, {versus} does not beat the champion", best.name, failures)


@dataclass(frozen=True)
class RegistryRow:
    model_id: str
    model_name: str
    version: str
    business_date: date
    params: dict[str, Any]
    features: list[str]
    train_from: date
    train_to: date
    holdout_cutoff: date
    label_horizon_days: int
    train_rows: int
    holdout_rows: int
    status: str  # champion | challenger | candidate
    decision_reason: str
    artifact_uri: str
    report_uri: str
    run_id: str
    # provenance: what the model was made of (include/ml/provenance.py)
    population: str
    data_from: date  # the orders history the run could see
    data_to: date
    skipped_cutoffs: list[str]  # left out: their label window had an undelivered day
    data_fingerprint: str  # sha256 of the training examples (every cut-off, feature and label)
    code_version: str
    library_versions: dict[str, str]
    artifact_sha256: str  # of model.joblib

    def params_for_sql(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for column in ("params", "features", "skipped_cutoffs", "library_versions"):
            out[column] = json.dumps(out[column], sort_keys=True, default=str)
        return out


def champion_as_of(hook: Any, business_date: date) -> dict[str, Any] | None:
    """The model promoted last by a run of ``business_date`` or before it, or None."""
    return _one(hook, render_sql("ml/champion_as_of.sql"), {"business_date": business_date})


def champion_before(hook: Any, business_date: date) -> dict[str, Any] | None:
    """The champion a run of ``business_date`` must beat (promoted by an earlier date)."""
    return _one(hook, render_sql("ml/champion_before.sql"), {"business_date": business_date})


def _one(hook: Any, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        cur.execute(sql, params)
        row = cur.fetchone()
        return dict(zip([d[0].lower() for d in cur.description], row, strict=True)) if row else None
    finally:
        conn.close()


def replace_training(
    hook: Any, business_date: date, registry: Sequence[RegistryRow], metrics: Iterable[tuple[str, str, str, float]]
) -> None:
    """The date's registry and metric rows, replaced. metrics: (model id, split, metric, value)."""
    frame = pd.DataFrame(list(metrics), columns=["model_id", "split", "metric", "value"])
    # 6 decimals: figures for people; float noise below that must not make a re-run differ
    frame["value"] = frame["value"].astype(float).round(6)
    frame.insert(1, "business_date", business_date)
    replace_date_rows(hook, "MODEL_METRICS", business_date, frame)
    registry_frame = pd.DataFrame([r.params_for_sql() for r in registry])
    replace_date_rows(hook, "MODEL_REGISTRY", business_date, registry_frame)


def replace_scores(hook: Any, business_date: date, rows: list[dict[str, Any]]) -> None:
    """The date's churn scores, replaced."""
    columns = ["customer_id", "business_date", "churn_score", "decile", "model_id", "features_as_of", "top_reasons"]
    replace_date_rows(hook, "CUSTOMER_CHURN_SCORE", business_date, pd.DataFrame(rows, columns=columns))


def replace_date_rows(hook: Any, table: str, business_date: date, frame: pd.DataFrame) -> None:
    """Replace ``table``'s rows of one business date with ``frame`` in one transaction: readers see
    the old rows or the new, never none or both; a re-run leaves one copy.

    The rows travel as one CSV file: PUT into the ML schema's internal stage (before the
    transaction, which in Snowflake holds only DML), then the delete and one COPY in the
    transaction; the COPY purges the file. A 100,000-customer score is one COPY instead of a
    hundred 1,000-row INSERTs whose bound values the connector writes into the SQL text (the
    local stand-in translated each of those with sqlglot, 1-2 s per 1,000 rows). Each call's
    file has a new name and the COPY names it, so a file left behind by a failed call is never
    loaded.
    """
    columns = list(frame.columns)
    path = None
    with tempfile.TemporaryDirectory() as tmp, one_connection(hook):  # the PUT and the transaction: one login
        if not frame.empty:
            name = f"{table.lower()}_{business_date:%Y%m%d}_{uuid.uuid4().hex}.csv"
            local = Path(tmp) / name
            with local.open("w", encoding="utf-8", newline="") as out:
                out.write(",".join(columns) + "\n")
                for row in frame.itertuples(index=False, name=None):
                    out.write(",".join(_csv_field(v) for v in row) + "\n")
            folder = f"{table.lower()}/{business_date:%Y/%m/%d}"
            put_file(
                hook.get_conn().cursor(), local, f"@{WAREHOUSE.qualified(WAREHOUSE.ml, WAREHOUSE.ml_stage)}/{folder}"
            )
            path = f"{folder}/{name}"
        with transaction(hook) as cur:
            cur.execute(render_sql("ml/delete_date_rows.sql", table=table), [business_date])
            if path is None:
                return
            cur.execute(render_sql("ml/copy_date_rows.sql", table=table, columns=columns, staged_path=path))
            loaded = rows_loaded(cur)
            if loaded != len(frame):
                raise RuntimeError(
                    f"COPY loaded {loaded} of {len(frame)} rows into ML.{table} for {business_date}; rolled back"
                )


def _csv_field(value: Any) -> str:
    """One value as the COPY's file format reads it: empty for NULL, text always quoted (a quote
    doubled), floats exactly (``repr`` round-trips), dates and numbers as written. (The csv
    module can quote all text but not NULL, ``QUOTE_NOTNULL``, only from Python 3.12.)"""
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _plain(value: Any) -> Any:
    """numpy scalars and NaN as the connector binds them."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
