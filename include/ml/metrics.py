"""Model quality: discrimination, calibration, and what targeting the top deciles buys."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

CALIBRATION_BINS = 10


def decile_table(y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    """Customers ranked by score, cut in ten equal groups; decile 1 = the most likely churners.

    lift: the decile's churn rate / the overall rate; capture: share of all churners found in
    deciles 1..d (cumulative).
    """
    order = np.argsort(-p, kind="stable")
    deciles = np.empty(len(p), dtype=int)
    deciles[order] = np.arange(len(p)) * 10 // max(len(p), 1) + 1
    frame = pd.DataFrame({"decile": deciles, "y": y, "p": p})
    table = frame.groupby("decile").agg(customers=("y", "size"), churners=("y", "sum"), mean_score=("p", "mean"))
    base = y.mean() if len(y) else 0.0
    table["churn_rate"] = table["churners"] / table["customers"]
    table["lift"] = table["churn_rate"] / base if base else np.nan
    table["capture"] = table["churners"].cumsum() / max(table["churners"].sum(), 1)
    return table.reset_index()


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = CALIBRATION_BINS) -> pd.DataFrame:
    """Equal-width bins of the predicted probability: mean prediction vs observed churn rate."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1], right=True), 0, bins - 1)
    frame = pd.DataFrame({"bin": index, "y": y, "p": p})
    table = frame.groupby("bin").agg(customers=("y", "size"), mean_predicted=("p", "mean"), observed=("y", "mean"))
    table["bin_from"], table["bin_to"] = edges[table.index], edges[table.index + 1]
    return table.reset_index(drop=True)


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Sum over equal-width bins of (share of customers) x |observed rate - mean prediction|."""
    table = calibration_table(y, p, bins)
    return float((table["customers"] / len(y) * (table["observed"] - table["mean_predicted"]).abs()).sum())


def evaluate(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Every metric of one split, flat (as MODEL_METRICS stores them)."""
    y, p = np.asarray(y, dtype=int), np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    out: dict[str, Any] = {
        "roc_auc": roc_auc_score(y, p),
        "pr_auc": average_precision_score(y, p),
        "brier": brier_score_loss(y, p),
        "log_loss": log_loss(y, p, labels=[0, 1]),
        "ece": expected_calibration_error(y, p),
        "base_rate": y.mean(),
        "rows": len(y),
    }
    for row in decile_table(y, p).itertuples():
        out[f"lift_decile_{row.decile}"] = row.lift
        out[f"capture_decile_{row.decile}"] = row.capture
    return {k: float(v) for k, v in out.items()}
