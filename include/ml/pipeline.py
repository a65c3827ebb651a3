"""The training task's callable: examples -> candidates -> promotion decision -> artifacts and registry."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pandas as pd

from include.ml import artifacts, registry
from include.ml.features import FEATURES, HORIZON_DAYS, data_range, plan_cutoffs, training_examples
from include.ml.metrics import evaluate
from include.ml.train import CANDIDATES, train_candidates

log = logging.getLogger(__name__)


class NotEnoughHistory(Exception):
    """MODEL does not yet hold the months a holdout and one time-based fold need."""


def train_and_register(
    hook: Any, store: artifacts.ObjectStore, business_date: date, run_id: str, candidates: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Train every candidate for a business date and record the outcome; returns a summary."""
    span = data_range(hook)
    if span is None:
        raise NotEnoughHistory("MODEL.FCT_ORDERS is empty")
    data_to = min(span[1], business_date)
    plan = plan_cutoffs(span[0], data_to)
    if plan is None:
        raise NotEnoughHistory(
            f"orders from {span[0]} to {data_to}: a holdout needs its {HORIZON_DAYS}-day label window and at "
            f"least one earlier training cut-off with its own; see docs/ml.md"
        )
    examples = training_examples(hook, plan.all_cutoffs)
    run = train_candidates(examples, plan, candidates or CANDIDATES)
    y_hold = run.holdout["churned"].to_numpy(dtype=int)

    metrics: list[tuple[str, str, str, float]] = []
    champion = None
    if before := registry.champion_before(hook, business_date):
        age = (business_date - date.fromisoformat(str(before["business_date"])[:10])).days
        try:
            old = artifacts.load_model(store.get(artifacts.key_of(before["artifact_uri"])))
            scores = old["model"].predict_proba(run.holdout[old["features"]])[:, 1]
            on_holdout = registry.Contender(before["model_id"], evaluate(y_hold, scores), scores)
            metrics += [(before["model_id"], "holdout_as_champion", k, v) for k, v in on_holdout.metrics.items()]
            champion = registry.Champion(before["model_id"], age, on_holdout)
        except Exception as exc:  # an unreadable champion cannot defend its title: the decision says so
            log.warning("champion %s could not be evaluated on this holdout: %s", before["model_id"], exc)
            champion = registry.Champion(before["model_id"], age, None, f"{type(exc).__name__}: {exc}")
    contenders = [registry.Contender(c.name, c.holdout, c.holdout_scores) for c in run.candidates]
    decision = registry.decide(contenders, champion, y_hold, seed=int(f"{business_date:%Y%m%d}"))
    log.info("%s", decision.reason)
    compared = next((c for c in run.candidates if c.name == decision.compared), run.best)

    version = f"{business_date:%Y%m%d}"
    rows = []
    for c in run.candidates:
        model_id = f"churn_{version}_{c.name}"
        prefix = artifacts.model_prefix(model_id, version)
        pngs = artifacts.charts(y_hold, c.holdout_scores)
        table = _metrics_frame(model_id, c)
        metrics += [(model_id, r.split, r.metric, r.value) for r in table.itertuples()]
        if c.name == decision.promote:
            status, reason = "champion", decision.reason
        elif c.name == decision.compared:
            status, reason = "challenger", decision.reason
        elif c.name in (decision.gate_failures or {}):
            status, reason = "candidate", f"not promotable: {decision.gate_failures[c.name]}"
        else:
            status, reason = "candidate", f"not the run's best eligible (holdout ROC AUC {c.holdout['roc_auc']:.4f})"
        facts = {
            "model": model_id,
            "status": status,
            "decision": reason,
            "business date": business_date,
            "training cut-offs": ", ".join(map(str, plan.final_train)),
            "holdout cut-off": plan.holdout,
            "label": f"no online order in the {HORIZON_DAYS} days after the cut-off",
            "params": c.params,
        }
        artifact_uri = store.put(
            f"{prefix}/model.joblib",
            artifacts.dump_model(c.model, {"features": FEATURES, "model_id": model_id, "params": c.params}),
            "application/octet-stream",
        )
        for name, body in pngs.items():
            store.put(f"{prefix}/{name}", body, "image/png")
        report_uri = store.put(
            f"{prefix}/report.html", artifacts.report_html(f"Churn model {model_id}", facts, table, pngs), "text/html"
        )
        log.info(
            "%s (%s): holdout ROC AUC %.4f, ECE %.4f; report %s",
            model_id,
            status,
            c.holdout["roc_auc"],
            c.holdout["ece"],
            report_uri,
        )
        rows.append(
            registry.RegistryRow(
                model_id=model_id,
                model_name=c.name,
                version=version,
                business_date=business_date,
                params=c.params,
                features=FEATURES,
                train_from=min(plan.final_train),
                train_to=max(plan.final_train),
                holdout_cutoff=plan.holdout,
                label_horizon_days=HORIZON_DAYS,
                train_rows=c.train_rows,
                holdout_rows=len(y_hold),
                status=status,
                decision_reason=reason,
                artifact_uri=artifact_uri,
                report_uri=report_uri,
                run_id=run_id,
            )
        )
    registry.replace_training(hook, business_date, rows, metrics)
    return {
        "business_date": str(business_date),
        "holdout_cutoff": str(plan.holdout),
        "best": compared.name,
        "promoted": decision.promote is not None,
        "decision": decision.reason,
        "models": {r.model_id: {"status": r.status, "report": r.report_uri} for r in rows},
        "holdout_roc_auc": round(compared.holdout["roc_auc"], 4),
        "holdout_ece": round(compared.holdout["ece"], 4),
        "rows_affected": len(rows) + len(metrics),
    }


def _metrics_frame(model_id: str, c: Any) -> pd.DataFrame:
    records = [("holdout", k, v) for k, v in c.holdout.items()]
    records += [("cv_mean", k, v) for k, v in c.cv_mean.items()]
    for cutoff, values in c.cv.items():
        records += [(f"cv_{cutoff:%Y%m%d}", k, values[k]) for k in ("roc_auc", "pr_auc", "brier", "ece", "rows")]
    return pd.DataFrame(records, columns=["split", "metric", "value"])
