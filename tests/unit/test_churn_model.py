"""Training, promotion and scoring write exactly one copy per business date, deterministically."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from include.ml.metrics import evaluate
from include.ml.registry import MAX_CHAMPION_AGE_DAYS, MAX_ECE, Champion, Contender, decide

FIRST, SECOND = date(2024, 12, 31), date(2025, 1, 7)


def _holdout(seed: int = 1, n: int = 4000):
    """Labels and three calibrated scorers of different skill on the same customers: the true
    risk, and its average within 4 or within 2 bands (coarser, so weaker, but still calibrated)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    risk = rng.uniform(0, 1, n)
    y = (rng.uniform(0, 1, n) < risk).astype(int)

    def banded(bands: int):
        band = np.minimum((risk * bands).astype(int), bands - 1)
        return (band + 0.5) / bands  # the mean risk of a uniform band

    return y, {"strong": risk, "medium": banded(4), "weak": banded(2)}


def _contender(name: str, y, scores, ece: float | None = None) -> Contender:
    metrics = evaluate(y, scores)
    if ece is not None:
        metrics["ece"] = ece
    return Contender(name, metrics, scores)


def test_with_no_champion_the_best_calibrated_candidate_is_promoted() -> None:
    y, s = _holdout()
    candidates = [_contender("strong", y, s["strong"], ece=MAX_ECE + 0.01), _contender("medium", y, s["medium"])]
    decision = decide(candidates, None, y, seed=1)
    # the stronger model fails the calibration gate; the other is still considered
    assert decision.promote == "medium" and "no champion yet" in decision.reason
    assert "strong" in decision.gate_failures and "ECE" in decision.gate_failures["strong"]
    assert decide([candidates[0]], None, y, seed=1).promote is None


def test_a_challenger_must_beat_the_champion_beyond_the_bootstrap_interval() -> None:
    y, s = _holdout()
    champion = Champion("old", 30, _contender("old", y, s["medium"]))
    better = decide([_contender("strong", y, s["strong"])], champion, y, seed=1)
    assert better.promote == "strong" and "beats the champion" in better.reason and "interval" in better.reason
    same = decide([_contender("twin", y, s["medium"])], champion, y, seed=1)
    assert same.promote is None and same.compared == "twin" and "does not beat the champion" in same.reason
    worse = decide([_contender("weak", y, s["weak"])], champion, y, seed=1)
    assert worse.promote is None
    assert decide([_contender("strong", y, s["strong"])], champion, y, seed=1) == better  # seeded: repeatable


@pytest.mark.parametrize(
    ("champion", "why"),
    [
        (lambda y, s: Champion("old", MAX_CHAMPION_AGE_DAYS + 1, _contender("old", y, s["strong"])), "days old"),
        (lambda y, s: Champion("old", 30, _contender("old", y, s["strong"], ece=MAX_ECE + 0.02)), "miscalibrated"),
        (lambda y, s: Champion("old", 30, None, "FileNotFoundError: model.joblib"), "could not be loaded"),
    ],
)
def test_a_stale_miscalibrated_or_unreadable_champion_is_retired(champion, why: str) -> None:
    y, s = _holdout()
    decision = decide([_contender("medium", y, s["medium"])], champion(y, s), y, seed=1)
    # replaced although the candidate is weaker than the champion was: the reason says why
    assert decision.promote == "medium" and why in decision.reason and "retired" in decision.reason
    stuck = decide([_contender("medium", y, s["medium"], ece=MAX_ECE + 0.01)], champion(y, s), y, seed=1)
    assert stuck.promote is None and why in stuck.reason and "no candidate passes the gates" in stuck.reason


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from include.ml.artifacts import DirectoryStore
    from include.ml.pipeline import train_and_register
    from include.ml.score import score_customers
    from local.history import in_process_warehouse, load_history

    store = DirectoryStore(tmp_path_factory.mktemp("ml-bucket"))
    with in_process_warehouse() as hook:
        load_history(hook, date(2024, 1, 2), FIRST, scale=0.03, seed=11)
        cur = hook.get_conn().cursor()

        columns = {  # everything but the write timestamps
            "MODEL_REGISTRY": "model_id, business_date, model_name, status, decision_reason, params, train_rows, "
            "holdout_rows, artifact_uri, report_uri",
            "MODEL_METRICS": "model_id, business_date, split, metric, value",
            "CUSTOMER_CHURN_SCORE": "customer_id, business_date, churn_score, decile, model_id, features_as_of",
        }

        def tables() -> dict[str, list[tuple]]:
            return {
                t: cur.execute(f"select {cols} from RETAIL_DB.ML.{t} order by 1, 2, 3, 4").fetchall()
                for t, cols in columns.items()
            }

        first = train_and_register(hook, store, FIRST, "run-1")
        scored = score_customers(hook, store, FIRST)
        after_first = tables()
        rerun = train_and_register(hook, store, FIRST, "run-1")
        score_customers(hook, store, FIRST)
        after_rerun = tables()
        second = train_and_register(hook, store, SECOND, "run-2")
        score_customers(hook, store, SECOND)
        after_second = tables()
    return store, first, rerun, second, scored, after_first, after_rerun, after_second


def test_first_training_promotes_the_best_candidate_and_stores_its_report(trained) -> None:
    store, first, *_ = trained
    assert first["promoted"] and "no champion yet" in first["decision"]
    statuses = sorted(m["status"] for m in first["models"].values())
    assert statuses == ["candidate", "champion"]
    for model in first["models"].values():
        report = Path(model["report"].removeprefix("file://"))
        assert report.name == "report.html" and report.parent.parent.name == "20241231"
        assert {"model.joblib", "roc.png", "calibration.png", "lift.png"} <= {p.name for p in report.parent.iterdir()}
        assert "<img" in report.read_text() and "holdout" in report.read_text()


def test_rerunning_a_date_replaces_its_rows_identically(trained) -> None:
    _, first, rerun, _, scored, after_first, after_rerun, _ = trained
    assert rerun == first  # same inputs, same models, same decision
    for table, rows in after_rerun.items():
        assert rows == after_first[table], table
    registry = after_first["MODEL_REGISTRY"]
    assert len(registry) == 2 and len(after_first["CUSTOMER_CHURN_SCORE"]) == scored["customers"] > 200
    metrics = {(r[0], r[2], r[3]) for r in after_first["MODEL_METRICS"]}
    assert len(metrics) == len(after_first["MODEL_METRICS"])  # one value per model, split, metric
    assert any(split == "holdout" and metric == "ece" for _, split, metric in metrics)
    assert any(split == "cv_mean" and metric == "roc_auc" for _, split, metric in metrics)


def test_a_later_date_must_beat_the_champion_on_its_own_holdout(trained) -> None:
    _, first, _, second, _, _, _, after_second = trained
    champion = next(i for i, m in first["models"].items() if m["status"] == "champion")
    # same history, same holdout: the new best is as good as the champion, not better by the margin
    assert not second["promoted"] and "champion's" in second["decision"]
    metric_rows = [r for r in after_second["MODEL_METRICS"] if r[1] == SECOND]
    assert any(r[0] == champion and r[2] == "holdout_as_champion" for r in metric_rows)
    scores = [r for r in after_second["CUSTOMER_CHURN_SCORE"] if r[1] == SECOND]
    assert scores and {r[4] for r in scores} == {champion}  # the champion keeps scoring
    assert sorted({r[3] for r in scores}) == list(range(1, 11))
