"""Candidates, time-based cross-validation, holdout evaluation."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

from include.ml.features import CATEGORICAL, FEATURES, NUMERIC, CutoffPlan
from include.ml.metrics import evaluate

SEED = 7
# non-negative counts and amounts: log1p makes them usable by a linear model
SKEWED = [
    c for c in NUMERIC if c.endswith(("_total", "_90d", "_days")) or c in ("avg_order_value", "purchases_prev_90d")
]


def _signed_log1p(x: Any) -> Any:
    return np.sign(x) * np.log1p(np.abs(x))


DERIVED = ["purchase_rate", "online_rate", "recent_share", "online_recent_gap"]


def add_rates(x: pd.DataFrame) -> pd.DataFrame:
    """Rates a tree cannot form from raw counts: purchases per 30 days of tenure, the share of
    purchases in the last 90 days, and how the recent pace compares with the lifetime pace."""
    tenure = x["tenure_days"].clip(lower=1)
    out = x.copy()
    out["purchase_rate"] = 30 * x["purchases_total"] / tenure
    out["online_rate"] = 30 * x["online_orders_total"] / tenure
    out["recent_share"] = x["purchases_90d"] / x["purchases_total"].clip(lower=1)
    out["online_recent_gap"] = x["purchases_90d"] / 3 - out["purchase_rate"]
    return out


def _rate_names(_: Any, names: Any) -> list[str]:
    return [*names, *DERIVED]


def _rates() -> FunctionTransformer:
    return FunctionTransformer(add_rates, feature_names_out=_rate_names)  # module-level: the model is pickled


def logreg() -> Any:
    prep = ColumnTransformer(
        [
            ("log", make_pipeline(FunctionTransformer(_signed_log1p), StandardScaler()), SKEWED),
            ("num", StandardScaler(), [c for c in NUMERIC if c not in SKEWED] + DERIVED),
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )
    return Pipeline([("rates", _rates()), ("prep", prep), ("clf", LogisticRegression(C=1.0, max_iter=2000))])


def hist_gbt() -> Any:
    prep = ColumnTransformer(
        [
            ("num", "passthrough", NUMERIC + DERIVED),
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), CATEGORICAL),
        ]
    )
    gbt = HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.08,
        max_leaf_nodes=31,
        min_samples_leaf=100,
        l2_regularization=1.0,
        categorical_features=[len(NUMERIC) + len(DERIVED)],
        early_stopping=False,
        random_state=SEED,
    )
    return Pipeline([("rates", _rates()), ("prep", prep), ("clf", gbt)])


@dataclass(frozen=True)
class Candidate:
    """A model and how its probabilities are calibrated."""

    make: Callable[[], Any]
    calibration: str  # sigmoid (Platt) | isotonic


CANDIDATES = {
    "logreg_calibrated": Candidate(logreg, "sigmoid"),
    "hist_gbt_calibrated": Candidate(hist_gbt, "isotonic"),
}


@dataclass
class CandidateResult:
    name: str
    model: Any
    params: dict[str, Any]
    cv: dict[date, dict[str, float]]  # validation cut-off -> metrics
    holdout: dict[str, float]
    holdout_scores: np.ndarray
    train_rows: int
    seconds: float

    @property
    def cv_mean(self) -> dict[str, float]:
        keys = next(iter(self.cv.values())).keys() if self.cv else []
        return {k: float(np.mean([m[k] for m in self.cv.values()])) for k in keys}


@dataclass
class TrainingRun:
    plan: CutoffPlan
    candidates: list[CandidateResult] = field(default_factory=list)
    holdout: pd.DataFrame | None = None

    @property
    def best(self) -> CandidateResult:
        """The run's challenger: the best holdout ROC AUC."""
        return max(self.candidates, key=lambda c: c.holdout["roc_auc"])


def _xy(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    return frame[FEATURES], frame["churned"].to_numpy(dtype=int)


def _fit(candidate: Candidate, frame: pd.DataFrame) -> Any:
    """Fit on the older training cut-offs, calibrate on the latest one (time-based calibration:
    probabilities are corrected on the most recent behaviour, and each row is used once)."""
    latest = frame["cutoff"].max()
    fit_rows, calibration_rows = frame[frame["cutoff"] < latest], frame[frame["cutoff"] == latest]
    if fit_rows.empty:
        raise ValueError("time-based calibration needs at least two training cut-offs")
    model = candidate.make().fit(*_xy(fit_rows))
    calibrated = CalibratedClassifierCV(FrozenEstimator(model), method=candidate.calibration)
    return calibrated.fit(*_xy(calibration_rows))


def train_candidates(examples: pd.DataFrame, plan: CutoffPlan, candidates: dict[str, Any] | None = None) -> TrainingRun:
    """CV every candidate over the plan's folds, then fit on the final training cut-offs and
    evaluate on the holdout. ``examples`` holds every cut-off of the plan (column ``cutoff``)."""
    run = TrainingRun(plan=plan, holdout=examples[examples["cutoff"] == plan.holdout].reset_index(drop=True))
    x_hold, y_hold = _xy(run.holdout)
    for name, make in (candidates or CANDIDATES).items():  # make: a Candidate
        started = time.perf_counter()
        cv = {}
        for train_cutoffs, valid_cutoff in plan.folds:
            model = _fit(make, examples[examples["cutoff"].isin(train_cutoffs)])
            valid = examples[examples["cutoff"] == valid_cutoff]
            x_valid, y_valid = _xy(valid)
            cv[valid_cutoff] = evaluate(y_valid, model.predict_proba(x_valid)[:, 1])
        final_frame = examples[examples["cutoff"].isin(plan.final_train)]
        model = _fit(make, final_frame)
        scores = model.predict_proba(x_hold)[:, 1]
        run.candidates.append(
            CandidateResult(
                name=name,
                model=model,
                params=_params(model),
                cv=cv,
                holdout=evaluate(y_hold, scores),
                holdout_scores=scores,
                train_rows=len(final_frame),
                seconds=time.perf_counter() - started,
            )
        )
    return run


def _params(model: Any) -> dict[str, Any]:
    inner = model.estimator.estimator.named_steps["clf"]
    keep = ("C", "max_iter", "learning_rate", "max_leaf_nodes", "min_samples_leaf", "l2_regularization")
    params = {k: v for k, v in inner.get_params().items() if k in keep}
    return {"estimator": type(inner).__name__, "calibration": model.method, "derived": DERIVED, **params}
