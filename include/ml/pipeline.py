"""The training task's callable: examples -> candidates -> promotion decision -> artifacts and registry."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pandas as pd

from include.ml import artifacts, monitoring, provenance, registry
from include.ml.features import (
    ACTIVE_DAYS,
    FEATURES,
    HORIZON_DAYS,
    data_range,
    order_delivery_dates,
    plan_cutoffs,
    training_examples,
)
from include.ml.metrics import evaluate
from include.ml.train import CANDIDATES, SEED, train_candidates

log = logging.getLogger(__name__)
POPULATION = f"active: a purchase, or the signup, within {ACTIVE_DAYS} days before the cut-off"


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
    plan = plan_cutoffs(span[0], data_to, delivered=order_delivery_dates(hook, span[0], data_to))
    if plan is None:
        raise NotEnoughHistory(
            f"orders from {span[0]} to {data_to}: a holdout needs its complete {HORIZON_DAYS}-day label window "
            f"(every day's orders delivered) and at least one earlier training cut-off with its own; see docs/ml.md"
        )
    if plan.skipped:
        log.warning(
            "cut-offs left out, a day of their label window has no orders delivery: %s",
            ", ".join(map(str, plan.skipped)),
        )
    examples = training_examples(hook, plan.all_cutoffs)
    fingerprint = provenance.data_fingerprint(examples, ["cutoff", "customer_id", *FEATURES, "churned"])
    code_version, libraries = provenance.code_version(), provenance.library_versions()
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
        recipe = {
            "data_fingerprint": fingerprint,
            "cutoffs": [str(d) for d in plan.all_cutoffs],
            "params": c.params,
            "features": FEATURES,
            "code_version": code_version,
            "libraries": libraries,
        }
        model_id = provenance.model_id(version, c.name, recipe)
        prefix = artifacts.model_prefix(model_id, version)
        scored = {c.name: c.holdout_scores}
        if champion is not None and champion.on_holdout is not None:
            scored["champion"] = champion.on_holdout.scores  # its id: in the comparison table
        pngs = artifacts.charts(y_hold, scored, baseline=("recency only", run.holdout["recency_days"].to_numpy()))
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
            "population": POPULATION,
            "params": c.params,
            "code version": code_version,
            "libraries": libraries,
            "training data fingerprint": fingerprint,
        }
        model_file = artifacts.dump_model(
            c.model,
            {
                "features": FEATURES,
                "model_id": model_id,
                "params": c.params,
                "provenance": recipe,
                # what monitoring compares each scored date with (population stability)
                "reference": monitoring.reference(run.holdout[FEATURES], c.holdout_scores),
            },
        )
        artifact_uri = artifacts.put_immutable(store, f"{prefix}/model.joblib", model_file, "application/octet-stream")
        for name, png in pngs.items():
            store.put(f"{prefix}/{name}", png, "image/png")
        tables = {
            "Metrics per split (holdout, mean of the CV folds, each fold)": table,
            "Against the champion and a recency-only ranking (holdout)": _comparison(y_hold, c, champion, run.holdout),
            "Permutation importance (holdout ROC AUC drop)": artifacts.permutation_importance_table(
                c.model, run.holdout[FEATURES], y_hold, seed=SEED
            ),
        }
        report = artifacts.report_html(f"Churn model {model_id}", MODEL_CARD, facts, tables, pngs)
        report_uri = store.put(f"{prefix}/report.html", report, "text/html")
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
                population=POPULATION,
                data_from=span[0],
                data_to=data_to,
                skipped_cutoffs=[str(d) for d in plan.skipped],
                data_fingerprint=fingerprint,
                code_version=code_version,
                library_versions=libraries,
                artifact_sha256=provenance.sha256(model_file),
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


MODEL_CARD = {
    "intended use": "rank active customers by their risk of placing no online order in the next "
    f"{HORIZON_DAYS} days, for retention campaigns; the score is a calibrated probability",
    "population": POPULATION,
    "label": f"no online order in the {HORIZON_DAYS} days after the cut-off (store visits do not count)",
    "features": "GOLD's customer features as of the cut-off (docs/metrics.md): tenure, purchase counts and "
    "trends, spend, recency, channel and payment mix, segment; nothing dated after the cut-off",
    "evaluation": "time-based: 3 CV folds and a holdout cut-off whose label window is complete",
    "not for": "customers outside the population (scored as nothing, not as low risk); credit, pricing or any "
    "decision about an individual beyond a retention offer",
    "limits": "trained on the last year of behaviour; a shift in the customer base shows in the daily "
    "stability monitoring (PSI) before it shows in realised quality, which needs 90 days",
    "owner": "data platform team; runbook docs/runbooks/churn-model.md",
}


def _comparison(y: Any, c: Any, champion: Any, holdout: pd.DataFrame) -> pd.DataFrame:
    from sklearn.metrics import roc_auc_score

    rows = [(c.name, c.holdout["roc_auc"], c.holdout["pr_auc"], c.holdout["ece"])]
    if champion is not None and champion.on_holdout is not None:
        m = champion.on_holdout.metrics
        rows.append((f"champion {champion.model_id}", m["roc_auc"], m["pr_auc"], m["ece"]))
    rows.append(("recency only (ranking, no probability)", roc_auc_score(y, holdout["recency_days"]), None, None))
    return pd.DataFrame(rows, columns=["model", "roc_auc", "pr_auc", "ece"]).round(4)


def _metrics_frame(model_id: str, c: Any) -> pd.DataFrame:
    records = [("holdout", k, v) for k, v in c.holdout.items()]
    records += [("cv_mean", k, v) for k, v in c.cv_mean.items()]
    for cutoff, values in c.cv.items():
        records += [(f"cv_{cutoff:%Y%m%d}", k, values[k]) for k in ("roc_auc", "pr_auc", "brier", "ece", "rows")]
    return pd.DataFrame(records, columns=["split", "metric", "value"])
