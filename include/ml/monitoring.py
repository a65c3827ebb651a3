"""Is the champion still worth acting on? Daily stability and, once labels mature, realised quality.

- **Stability** (every scored date): the population stability index (PSI) of each feature and of
  the score, between the model's own holdout (its reference, stored with the model) and today's
  scored customers. PSI above ``PSI_ALERT`` is a shift the model was not validated on.
- **Realised quality** (from one horizon after the first score): the scores stored for date
  D - 90 are joined with what those customers did in the 90 days after it (only when every day of
  that window was delivered): realised ROC AUC and ECE. An alert when the AUC falls more than
  ``AUC_DROP_ALERT`` below the model's holdout AUC or the ECE exceeds ``MAX_ECE``.

Thresholds and what to do: docs/ml.md, "Monitoring".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from include.ml.features import CATEGORICAL, HORIZON_DAYS, NUMERIC, order_delivery_dates
from include.ml.metrics import evaluate
from include.ml.registry import MAX_ECE, replace_date_rows
from include.sql_render import render_sql

PSI_BINS = 10
PSI_ALERT = 0.25  # the usual reading: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift
AUC_DROP_ALERT = 0.05
_FLOOR = 1e-4  # an empty bin's share, so the logarithm stays finite


def reference(features: pd.DataFrame, scores: np.ndarray) -> dict[str, Any]:
    """Bin edges and shares of each feature and of the score on the holdout (stored with the model)."""
    ref: dict[str, Any] = {}
    for column in NUMERIC:
        ref[column] = _numeric_reference(features[column].to_numpy(dtype=float))
    for column in CATEGORICAL:
        shares = features[column].astype(str).value_counts(normalize=True)
        ref[column] = {"categories": {str(k): float(v) for k, v in shares.sort_index().items()}}
    ref["churn_score"] = _numeric_reference(np.asarray(scores, dtype=float))
    # a typical holdout customer: the reasons behind a score are measured against these values
    ref["typical"] = {c: float(features[c].median()) for c in NUMERIC} | {
        c: str(features[c].astype(str).mode().iloc[0]) for c in CATEGORICAL
    }
    return ref


def _numeric_reference(values: np.ndarray) -> dict[str, Any]:
    edges = np.unique(np.quantile(values, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    return {"edges": edges.tolist(), "shares": (counts / max(len(values), 1)).tolist()}


def psi(ref: dict[str, Any], values: Any) -> float:
    """Population stability index of ``values`` against one reference entry."""
    if "categories" in ref:
        expected = pd.Series(ref["categories"], dtype=float)
        actual = pd.Series(values).astype(str).value_counts(normalize=True)
        keys = expected.index.union(actual.index)
        e, a = expected.reindex(keys, fill_value=0).to_numpy(), actual.reindex(keys, fill_value=0).to_numpy()
    else:
        edges, e = np.asarray(ref["edges"]), np.asarray(ref["shares"])
        values = np.asarray(values, dtype=float)
        a = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1) / max(len(values), 1)
    e, a = np.clip(e, _FLOOR, None), np.clip(a, _FLOOR, None)
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(frozen=True)
class Measure:
    measure: str
    subject: str
    value: float
    threshold: float | None
    status: str  # ok | alert | info


def stability(ref: dict[str, Any], features: pd.DataFrame, scores: np.ndarray) -> list[Measure]:
    out = []
    for column in [*NUMERIC, *CATEGORICAL]:
        value = psi(ref[column], features[column])
        out.append(Measure("psi", column, value, PSI_ALERT, "alert" if value > PSI_ALERT else "ok"))
    value = psi(ref["churn_score"], scores)
    out.append(Measure("psi", "churn_score", value, PSI_ALERT, "alert" if value > PSI_ALERT else "ok"))
    return out


def realised(scored_date: date, outcomes: pd.DataFrame, holdout_auc: float | None) -> list[Measure]:
    """Quality of the scores of ``scored_date`` against what happened (``churned`` per customer)."""
    y, p = outcomes["churned"].to_numpy(dtype=int), outcomes["churn_score"].to_numpy(dtype=float)
    subject = str(scored_date)
    out = [
        Measure("realised_rows", subject, float(len(y)), None, "info"),
        Measure("realised_base_rate", subject, float(y.mean()) if len(y) else float("nan"), None, "info"),
    ]
    if len(y) == 0 or y.min() == y.max():
        return out  # one class only: no AUC
    metrics = evaluate(y, p)
    floor = None if holdout_auc is None else holdout_auc - AUC_DROP_ALERT
    auc_status = "alert" if floor is not None and metrics["roc_auc"] < floor else "ok"
    out.append(Measure("realised_roc_auc", subject, metrics["roc_auc"], floor, auc_status))
    ece_status = "alert" if metrics["ece"] > MAX_ECE else "ok"
    out.append(Measure("realised_ece", subject, metrics["ece"], MAX_ECE, ece_status))
    return out


def monitor(hook: Any, business_date: date, model_id: str, bundle: dict[str, Any], features: pd.DataFrame,
            scores: np.ndarray, horizon: int = HORIZON_DAYS) -> list[Measure]:  # fmt: skip
    """Measure the date's stability and matured quality and replace its MODEL_MONITORING rows."""
    measures = stability(bundle["reference"], features, scores) if "reference" in bundle else []
    scored_date = business_date - timedelta(days=horizon)
    window = order_delivery_dates(hook, scored_date + timedelta(days=1), business_date)
    if len(window) == horizon:  # every day of the label window delivered: the outcome is known
        outcomes = _query(hook, "ml/realised_outcomes.sql", scored_date=scored_date, horizon_days=horizon)
        if not outcomes.empty:
            scorer = str(outcomes["model_id"].iloc[0])
            auc = _query(hook, "ml/holdout_auc.sql", model_id=scorer)
            holdout_auc = float(auc["value"].iloc[0]) if not auc.empty else None
            measures += realised(scored_date, outcomes, holdout_auc)
    frame = pd.DataFrame(
        [(business_date, model_id, m.measure, m.subject, round(m.value, 6), m.threshold, m.status) for m in measures],
        columns=["business_date", "model_id", "measure", "subject", "value", "threshold", "status"],
    )
    replace_date_rows(hook, "MODEL_MONITORING", business_date, frame)
    return measures


def monitor_date(hook: Any, store: Any, business_date: date) -> dict[str, Any]:
    """The monitoring task's callable: the date's scores and their feature snapshot, the model that
    made them (its holdout reference is in its file), measured and recorded; returns a summary
    whose ``alerts`` list the measures past their threshold."""
    from include.ml import artifacts

    scored = _query(hook, "ml/scored_features.sql", {"features": [*NUMERIC, *CATEGORICAL]}, business_date=business_date)
    if scored.empty:
        return {"business_date": str(business_date), "measures": 0, "alerts": [], "rows_affected": 0}
    for column in NUMERIC:
        scored[column] = pd.to_numeric(scored[column], errors="coerce").astype(float)
    model_id = str(scored["model_id"].iloc[0])
    found = _query(hook, "ml/artifact_of.sql", model_id=model_id)
    if found.empty:  # its training date was re-trained on corrected data since: the registry moved on
        raise LookupError(f"model {model_id}, which scored {business_date}, is no longer in ML.MODEL_REGISTRY")
    bundle = artifacts.load_model(store.get(artifacts.key_of(found["artifact_uri"].iloc[0])))
    measures = monitor(hook, business_date, model_id, bundle, scored, scored["churn_score"].to_numpy(dtype=float))
    return {
        "business_date": str(business_date),
        "model_id": model_id,
        "measures": len(measures),
        "alerts": [
            f"{m.measure} of {m.subject} = {m.value:.4f} (threshold {m.threshold:.4f})"
            for m in measures
            if m.status == "alert"
        ],  # fmt: skip
        "realised": {m.measure: round(m.value, 4) for m in measures if m.measure.startswith("realised_")},
        "max_psi": round(max((m.value for m in measures if m.measure == "psi"), default=0.0), 4),
        "rows_affected": len(measures),
    }


def _query(hook: Any, template: str, context: dict[str, Any] | None = None, **params: Any) -> pd.DataFrame:
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        cur.execute(render_sql(template, **(context or {})), params)
        columns = [d[0].lower() for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=columns)
    finally:
        conn.close()
