"""Training examples and scoring inputs, computed in the warehouse with GOLD's feature SQL.

A cut-off's examples use only facts dated on or before it (``gold/_customer_features.sql``); the
label is whether the customer placed no online order in the ``horizon`` days after it. Training,
evaluation, promotion, scoring and the benchmark all use one population: customers active at the
cut-off (a purchase, or their signup, within ``ACTIVE_DAYS``; docs/ml.md, "Population").
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from include.sql_render import render_sql

log = logging.getLogger(__name__)

HORIZON_DAYS = 90
# The scoring population: a purchase (or, never bought, the signup) at most this many days before
# the cut-off. Beyond it almost nobody orders again (measured: docs/ml.md, "Population"); those
# customers are gone, not at risk, and would only inflate AUC and fill the top deciles.
ACTIVE_DAYS = 180
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
    skipped: tuple[date, ...] = ()  # cut-offs left out: a day of their label window was not delivered

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
    delivered: Collection[date] | None = None,
) -> CutoffPlan | None:
    """None when the history is too short for a holdout and one trained fold.

    ``delivered``: the business dates with an orders delivery. A cut-off is used only when every
    day of its label window was delivered (a missing day would turn its customers into false
    churners): the holdout moves back to the latest complete cut-off (at most ``horizon`` days),
    and every other cut-off to the first complete day before its planned date.
    None: every day counts as delivered.
    """
    skipped: set[date] = set()

    def complete(cutoff: date) -> bool:
        return delivered is None or all(cutoff + timedelta(days=d) in delivered for d in range(1, horizon + 1))

    def walk_back(first: date, count: int, floor: date) -> list[date]:
        """``count`` complete cut-offs from ``first`` back, ``step`` days apart: a planned cut-off
        with a gap in its label window is skipped and the next complete day before it taken."""
        days, day, planned = [], first, first
        while len(days) < count and day >= floor:
            if complete(day):
                days.append(day)
                day = planned = day - timedelta(days=step)
            else:
                if day == planned:
                    skipped.add(day)
                day -= timedelta(days=1)
        return sorted(days)

    earliest = data_from + timedelta(days=min_history)
    latest = data_to - timedelta(days=horizon)
    holdout = next(iter(walk_back(latest, 1, max(earliest, latest - timedelta(days=horizon)))), None)
    if holdout is None:
        return None

    def trainable(before: date) -> list[date]:
        return walk_back(before - timedelta(days=horizon), train_cutoffs, earliest)

    folds = []
    for valid in reversed(walk_back(holdout - timedelta(days=step), n_folds, earliest)):
        if len(train := trainable(valid)) >= 2:  # fit on the older, calibrate on the newer
            folds.append((train, valid))
    final = trainable(holdout)
    if len(final) < 2 or not folds:
        return None
    return CutoffPlan(
        holdout=holdout,
        folds=sorted(folds, key=lambda f: f[1]),
        final_train=final,
        skipped=tuple(sorted(skipped)),
    )


def training_examples(
    hook: Any, cutoffs: list[date], horizon: int = HORIZON_DAYS, active_days: int = ACTIVE_DAYS
) -> pd.DataFrame:
    """Features and label of every active customer at each cut-off (column ``cutoff``)."""
    frames = []
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        for cutoff in cutoffs:
            cur.execute(
                render_sql("ml/training_examples.sql", cutoff=cutoff, horizon_days=horizon, active_days=active_days)
            )
            frame = _frame(cur)
            frame["cutoff"] = cutoff
            frames.append(frame)
    finally:
        conn.close()
    # a stable row order: the same inputs train the same model on a re-run
    return pd.concat(frames, ignore_index=True).sort_values(["cutoff", "customer_id"], ignore_index=True)


def scoring_features(hook: Any, as_of: date, active_days: int = ACTIVE_DAYS) -> pd.DataFrame:
    """Features of every active customer as of a business date (the same definitions, no label):
    the published GOLD.CUSTOMER_FEATURES when GOLD is as of that date, else from the facts."""
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        cur.execute(render_sql("ml/gold_as_of.sql"))
        row = cur.fetchone()
        from_gold = row is not None and _as_date(row[0]) == as_of
        cur.execute(render_sql("ml/scoring_features.sql", as_of=as_of, active_days=active_days, from_gold=from_gold))
        frame = _frame(cur)
        if from_gold and frame.empty:  # a publication moved the as-of date meanwhile: the facts then
            cur.execute(render_sql("ml/scoring_features.sql", as_of=as_of, active_days=active_days, from_gold=False))
            frame = _frame(cur)
        log.info(
            "scoring features as of %s from %s: %d customers", as_of, "GOLD" if from_gold else "the facts", len(frame)
        )
        return frame.sort_values("customer_id", ignore_index=True)
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


def order_delivery_dates(hook: Any, first: date, last: date) -> set[date]:
    """Business dates between ``first`` and ``last`` with orders in BRONZE (delivered and loaded)."""
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        cur.execute(render_sql("ml/order_delivery_dates.sql"), {"first": first, "last": last})
        return {_as_date(row[0]) for row in cur.fetchall()}
    finally:
        conn.close()


def _as_date(value: Any) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def _frame(cur: Any) -> pd.DataFrame:
    columns = [d[0].lower() for d in cur.description]
    frame = pd.DataFrame(cur.fetchall(), columns=columns)
    for column in NUMERIC + ["churned"]:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame
