"""Score every active customer with the champion: the entry point the Databricks job runs.

    python -m include.ml.score --business-date 2026-06-01

Inside Airflow (local stack) the DAG calls :func:`score_customers` with its hooks. On Databricks
the job runs this module: Snowflake credentials come from ``RETAIL_SNOWFLAKE_*`` environment
variables (set from a Databricks secret scope in the job definition) and S3 from the cluster's
instance profile. Same code, same SQL, same tables either way.
"""

from __future__ import annotations

import argparse
import logging
import os
from datetime import date
from typing import Any

import numpy as np

from include.ml import artifacts, registry
from include.ml.features import FEATURES, scoring_features

log = logging.getLogger(__name__)


class NoChampion(Exception):
    """No model has been promoted yet: nothing to score with."""


def score_customers(hook: Any, store: artifacts.ObjectStore, business_date: date) -> dict[str, Any]:
    """Replace the date's CUSTOMER_CHURN_SCORE rows with the champion's scores, and its
    CUSTOMER_FEATURE_SNAPSHOT rows with the features they were computed from; return a summary."""
    champion = registry.champion_as_of(hook, business_date)
    if champion is None:
        raise NoChampion(f"no churn model promoted on or before {business_date}")
    bundle = artifacts.load_model(store.get(artifacts.key_of(champion["artifact_uri"])))
    frame = scoring_features(hook, business_date)
    snapshot = frame[["customer_id", *FEATURES]].assign(business_date=business_date, model_id=champion["model_id"])
    registry.replace_date_rows(hook, "CUSTOMER_FEATURE_SNAPSHOT", business_date, snapshot)
    if frame.empty:
        registry.replace_scores(hook, business_date, [])
        return {"business_date": str(business_date), "model_id": champion["model_id"], "rows_affected": 0}
    scores = bundle["model"].predict_proba(frame[bundle["features"]])[:, 1]
    order = np.argsort(-scores, kind="stable")
    deciles = np.empty(len(scores), dtype=int)
    deciles[order] = np.arange(len(scores)) * 10 // len(scores) + 1
    reasons = top_reasons(bundle, frame, scores)
    rows = [
        {
            "customer_id": cid,
            "business_date": business_date,
            "churn_score": round(float(s), 6),
            "decile": int(d),
            "model_id": champion["model_id"],
            "features_as_of": business_date,
            "top_reasons": r,
        }
        for cid, s, d, r in zip(frame["customer_id"], scores, deciles, reasons, strict=True)
    ]
    registry.replace_scores(hook, business_date, rows)
    summary = {
        "business_date": str(business_date),
        "model_id": champion["model_id"],
        "customers": len(rows),
        "mean_score": round(float(scores.mean()), 4),
        "rows_affected": 2 * len(rows),  # scores and feature snapshots
    }
    log.info("scored %s", summary)
    return summary


REASONS = 3


def top_reasons(bundle: dict[str, Any], frame: Any, scores: np.ndarray) -> list[str | None]:
    """Per customer, the features that raise their score most: each feature in turn is set to a
    typical holdout customer's value (``reference["typical"]``), and the drop of the score is that
    feature's part, e.g. ``recency_days +0.21; purchases_90d +0.08``. None for a model trained
    before the reference was stored."""
    typical = bundle.get("reference", {}).get("typical")
    if not typical or frame.empty:
        return [None] * len(frame)
    features = frame[bundle["features"]]
    parts = np.column_stack(
        [scores - bundle["model"].predict_proba(features.assign(**{f: typical[f]}))[:, 1] for f in bundle["features"]]
    )
    names = np.asarray(bundle["features"])
    order = np.argsort(-parts, axis=1, kind="stable")[:, :REASONS]
    out = []
    for i, top in enumerate(order):
        raised = [f"{names[j]} {parts[i, j]:+.2f}" for j in top if parts[i, j] >= 0.005]
        out.append("; ".join(raised) or None)
    return out


class _EnvHook:
    """Snowflake connection from environment variables (Databricks job: no Airflow there)."""

    def get_conn(self) -> Any:
        import snowflake.connector

        params = {
            key: os.environ[f"RETAIL_SNOWFLAKE_{key.upper()}"]
            for key in ("account", "user", "password", "role", "warehouse", "private_key_file", "authenticator")
            if os.environ.get(f"RETAIL_SNOWFLAKE_{key.upper()}")
        }
        from include.warehouse import session_parameters

        return snowflake.connector.connect(
            database=os.environ.get("RETAIL_DATABASE", "RETAIL_DB"), session_parameters=session_parameters(), **params
        )


def main(argv: list[str] | None = None) -> int:
    import boto3

    from include.config import ML_BUCKET

    parser = argparse.ArgumentParser(description="score every customer with the churn champion")
    parser.add_argument("--business-date", type=date.fromisoformat, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    store = artifacts.Boto3Store(boto3.client("s3"), ML_BUCKET)
    print(score_customers(_EnvHook(), store, args.business_date))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
