"""Candidates, time-based cross-validation, holdout evaluation."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
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


def logreg_calibrated() -> Any:
    prep = ColumnTransformer(
        [
            ("log", make_pipeline(FunctionTransformer(_signed_log1p), StandardScaler()), SKEWED),
            ("num", StandardScaler(), [c for c in NUMERIC if c not in SKEWED]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )
    model = Pipeline([("prep", prep), ("clf", LogisticRegression(C=1.0, max_iter=2000))])
    return CalibratedClassifierCV(model, method="sigmoid", cv=3)


def hist_gbt_calibrated() -> Any:
    prep = ColumnTransformer(
        [
            ("num", "passthrough", NUMERIC),
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), CATEGORICAL),
        ]
    )
    gbt = HistGradientBoostingClassifier(
        max_iter=150,
        learning_rate=0.08,
        max_leaf_nodes=31,
        min_samples_leaf=50,
        l2_regularization=1.0,
        categorical_features=[len(NUMERIC)],
        random_state=SEED,
    )
    return CalibratedClassifierCV(Pipeline([("prep", prep), ("clf", gbt)]), method="isotonic", cv=3)


CANDIDATES = {"logreg_calibrated": logreg_calibrated, "hist_gbt_calibrated": hist_gbt_calibrated}


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


def _fit(make: Any, frame: pd.DataFrame) -> Any:
    x, y = _xy(frame)
    return make().fit(x, y)


def train_candidates(examples: pd.DataFrame, plan: CutoffPlan, candidates: dict[str, Any] | None = None) -> TrainingRun:
    """CV every candidate over the plan's folds, then fit on the final training cut-offs and
    evaluate on the holdout. ``examples`` holds every cut-off of the plan (column ``cutoff``)."""
    run = TrainingRun(plan=plan, holdout=examples[examples["cutoff"] == plan.holdout].reset_index(drop=True))
    x_hold, y_hold = _xy(run.holdout)
    for name, make in (candidates or CANDIDATES).items():
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
    inner = model.estimator.named_steps["clf"]
    keep = ("C", "max_iter", "learning_rate", "max_leaf_nodes", "min_samples_leaf", "l2_regularization")
    params = {k: v for k, v in inner.get_params().items() if k in keep}
    return {"estimator": type(inner).__name__, "calibration": model.method, **params}
