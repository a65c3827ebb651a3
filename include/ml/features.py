"""Training examples and scoring inputs, computed in the warehouse with GOLD's feature SQL.

A cut-off's examples use only facts dated on or before it (``gold/_customer_features.sql``); the
label is whether the customer placed no online order in the ``horizon`` days after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from include.sql_render import render_sql

HORIZON_DAYS = 90
NUMERIC = [
    "tenure_days",
    "purchases_total",
    "online_orders_total",
    "store_visits_total",
    "purchases_90d",
    "purchases_prev_90d",
    "frequency_trend",
    "spend_total",
    "spend_90d",
    "avg_order_value",
    "recency_days",
    "online_share",
    "cancel_return_share",
    "card_share",
    "paypal_share",
    "gift_card_share",
    "bank_transfer_share",
]
CATEGORICAL = ["segment"]
FEATURES = NUMERIC + CATEGORICAL


@dataclass(frozen=True)
class CutoffPlan:
    """Which cut-offs train, validate and hold out, for data complete up to ``data_to``.

    holdout: the latest cut-off whose label window has ended. CV folds validate at the cut-offs
    ``step`` days apart before it; a fold (and the final model) trains only on cut-offs whose label
    window ends before its validation cut-off, so no training label looks into validation time.
    """

    holdout: date
    folds: list[tuple[list[date], date]]  # (training cut-offs, validation cut-off)
    final_train: list[date]

    @property
    def all_cutoffs(self) -> list[date]:
        days = {self.holdout, *self.final_train}
        for train, valid in self.folds:
            days.update(train)
            days.add(valid)
        return sorted(days)


def plan_cutoffs(
    data_from: date,
    data_to: date,
    *,
    horizon: int = HORIZON_DAYS,
    step: int = 30,
    n_folds: int = 3,
    train_cutoffs: int = 2,
    min_history: int = 90,
) -> CutoffPlan | None:
    """None when the history is too short for a holdout and one trained fold."""
    holdout = data_to - timedelta(days=horizon)
    earliest = data_from + timedelta(days=min_history)

    def trainable(before: date) -> list[date]:
        last = before - timedelta(days=horizon)
        days = [last - timedelta(days=step * i) for i in range(train_cutoffs)]
        return sorted(d for d in days if d >= earliest)

    folds = []
    for i in range(1, n_folds + 1):
        valid = holdout - timedelta(days=step * i)
        if len(train := trainable(valid)) >= 2:  # fit on the older, calibrate on the newer
            folds.append((train, valid))
    final = trainable(holdout)
    if len(final) < 2 or not folds:
        return None
    return CutoffPlan(holdout=holdout, folds=sorted(folds, key=lambda f: f[1]), final_train=final)


def training_examples(hook: Any, cutoffs: list[date], horizon: int = HORIZON_DAYS) -> pd.DataFrame:
    """Features and label of every customer known at each cut-off (column ``cutoff``)."""
    frames = []
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        for cutoff in cutoffs:
            cur.execute(render_sql("ml/training_examples.sql", cutoff=cutoff, horizon_days=horizon))
            frame = _frame(cur)
            frame["cutoff"] = cutoff
            frames.append(frame)
    finally:
        conn.close()
    # a stable row order: the same inputs train the same model on a re-run
    return pd.concat(frames, ignore_index=True).sort_values(["cutoff", "customer_id"], ignore_index=True)


def scoring_features(hook: Any, as_of: date) -> pd.DataFrame:
    """Features of every customer as of a business date (the same definitions, no label)."""
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        cur.execute(render_sql("ml/scoring_features.sql", as_of=as_of))
        return _frame(cur).sort_values("customer_id", ignore_index=True)
    finally:
        conn.close()


def data_range(hook: Any) -> tuple[date, date] | None:
    """First and last order date in MODEL (labels can be complete up to the last one)."""
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        cur.execute(render_sql("ml/data_range.sql"))
        first, last = cur.fetchone()
    finally:
        conn.close()
    return (_as_date(first), _as_date(last)) if first and last else None


def _as_date(value: Any) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def _frame(cur: Any) -> pd.DataFrame:
    columns = [d[0].lower() for d in cur.description]
    frame = pd.DataFrame(cur.fetchall(), columns=columns)
    for column in NUMERIC + ["churned"]:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame
