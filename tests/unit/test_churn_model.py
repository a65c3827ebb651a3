"""Training, promotion and scoring write exactly one copy per business date, deterministically."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from include.ml.features import ACTIVE_DAYS, FEATURES, HORIZON_DAYS, scoring_features, training_examples
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
            "holdout_rows, artifact_uri, report_uri, population, data_from, data_to, skipped_cutoffs, "
            "data_fingerprint, code_version, library_versions, artifact_sha256",
            "MODEL_METRICS": "model_id, business_date, split, metric, value",
            "CUSTOMER_CHURN_SCORE": "customer_id, business_date, churn_score, decile, model_id, features_as_of, "
            "top_reasons",
            "CUSTOMER_FEATURE_SNAPSHOT": f"customer_id, business_date, model_id, {', '.join(FEATURES)}",
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
        # every customer of GOLD's feature definitions at FIRST, active or not, for the population test
        everyone = scoring_features(hook, FIRST, active_days=100_000)
        monitoring = _monitor_with_matured_scores(hook, store)
    return store, first, rerun, second, scored, after_first, after_rerun, after_second, everyone, monitoring


MATURED = FIRST - timedelta(days=HORIZON_DAYS)  # scores of this date have their outcome by FIRST


def _monitor_with_matured_scores(hook, store):
    """Scores for MATURED written with the champion (as a run of that date would have), then the
    monitoring of FIRST: stability of FIRST's scores and the realised quality of MATURED's."""
    from include.ml import artifacts, registry
    from include.ml.monitoring import monitor_date

    champion = registry.champion_as_of(hook, SECOND)
    bundle = artifacts.load_model(store.get(artifacts.key_of(champion["artifact_uri"])))
    frame = scoring_features(hook, MATURED)
    scores = bundle["model"].predict_proba(frame[FEATURES])[:, 1]
    registry.replace_scores(
        hook,
        MATURED,
        [
            {"customer_id": c, "business_date": MATURED, "churn_score": float(s), "decile": 1,
             "model_id": champion["model_id"], "features_as_of": MATURED}
            for c, s in zip(frame["customer_id"], scores, strict=True)
        ],
    )  # fmt: skip
    # what the customers scored at MATURED really did: the training label's definition, independently
    labels = training_examples(hook, [MATURED])[["customer_id", "churned"]]
    expected = frame.assign(churn_score=scores).merge(labels, on="customer_id")
    summary = monitor_date(hook, store, FIRST)
    rows = (
        hook.get_conn()
        .cursor()
        .execute(
            "select measure, subject, value, threshold, status from RETAIL_DB.ML.MODEL_MONITORING "
            f"where business_date = '{FIRST}' order by 1, 2"
        )
        .fetchall()
    )
    return summary, rows, expected


def test_first_training_promotes_the_best_candidate_and_stores_its_report(trained) -> None:
    store, first, *_ = trained
    assert first["promoted"] and "no champion yet" in first["decision"]
    statuses = sorted(m["status"] for m in first["models"].values())
    assert statuses == ["candidate", "champion"]
    for model in first["models"].values():
        report = Path(model["report"].removeprefix("file://"))
        assert report.name == "report.html" and report.parent.parent.name == "20241231"
        assert {"model.joblib", "roc.png", "pr.png", "calibration.png", "lift.png"} <= {
            p.name for p in report.parent.iterdir()
        }
        html = report.read_text()
        assert html.count("<img") == 4 and "Model card" in html and "intended use" in html
        assert "Permutation importance" in html and "recency only" in html and "cv_20" in html


def test_rerunning_a_date_replaces_its_rows_identically(trained) -> None:
    _, first, rerun, _, scored, after_first, after_rerun, *_ = trained
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
    _, first, _, second, _, _, _, after_second, *_ = trained
    champion = next(i for i, m in first["models"].items() if m["status"] == "champion")
    # same history, same holdout: the new best is as good as the champion, not better by the margin
    assert not second["promoted"] and "champion's" in second["decision"]
    metric_rows = [r for r in after_second["MODEL_METRICS"] if r[1] == SECOND]
    assert any(r[0] == champion and r[2] == "holdout_as_champion" for r in metric_rows)
    scores = [r for r in after_second["CUSTOMER_CHURN_SCORE"] if r[1] == SECOND]
    assert scores and {r[4] for r in scores} == {champion}  # the champion keeps scoring
    assert sorted({r[3] for r in scores}) == list(range(1, 11))


def test_training_and_scoring_use_the_same_active_population(trained) -> None:
    """Scored: exactly the customers active at the date (a purchase or signup within ACTIVE_DAYS);
    the long gone are left out, and the snapshot keeps the features each score was computed from."""
    *_, after_first, _, _, everyone, _ = trained
    scored = {r[0] for r in after_first["CUSTOMER_CHURN_SCORE"]}
    active = set(everyone.loc[everyone["recency_days"] <= ACTIVE_DAYS, "customer_id"])
    assert scored == active and len(everyone) > len(active) > 200
    snapshot = after_first["CUSTOMER_FEATURE_SNAPSHOT"]
    assert {r[0] for r in snapshot} == scored
    recency = FEATURES.index("recency_days") + 3
    assert max(r[recency] for r in snapshot) <= ACTIVE_DAYS


def test_each_score_says_which_features_raise_it(trained) -> None:
    """top_reasons: up to three features, each with how much it raises the score against a typical
    customer; the highest-risk decile is explained far more often than the lowest."""
    import re

    *_, after_first, _, _, _, _ = trained
    scores = after_first["CUSTOMER_CHURN_SCORE"]
    pattern = re.compile(r"^(\w+ \+\d\.\d\d)(; \w+ \+\d\.\d\d){0,2}$")
    explained = [r for r in scores if r[6] is not None]
    assert explained and all(pattern.match(r[6]) and r[6].split()[0] in FEATURES for r in explained)
    top = [r for r in scores if r[3] == 1]
    assert sum(r[6] is not None for r in top) / len(top) > 0.9


def test_a_past_score_is_reproduced_exactly_from_its_snapshot_and_model_file(trained) -> None:
    import pandas as pd

    from include.ml import artifacts

    store, first, *_, after_first, _, _, _, _ = trained
    snapshot = pd.DataFrame(
        after_first["CUSTOMER_FEATURE_SNAPSHOT"], columns=["customer_id", "business_date", "model_id", *FEATURES]
    )
    registry = {r[0]: r for r in after_first["MODEL_REGISTRY"]}
    (model_id,) = set(snapshot["model_id"])
    bundle = artifacts.load_model(store.get(artifacts.key_of(registry[model_id][8])))
    features = snapshot[FEATURES].astype({c: float for c in FEATURES if c != "segment"})
    recomputed = [round(float(p), 6) for p in bundle["model"].predict_proba(features)[:, 1]]
    stored = {r[0]: r[2] for r in after_first["CUSTOMER_CHURN_SCORE"]}
    assert recomputed == [stored[c] for c in snapshot["customer_id"]]


def test_a_model_version_records_what_it_was_made_of_and_is_never_overwritten(trained) -> None:
    import json

    from include.ml import artifacts, provenance

    store, first, *_, after_first, _, after_second, _, _ = trained
    for row in after_first["MODEL_REGISTRY"]:
        model_id, name, uri = row[0], row[2], row[8]
        population, data_from, data_to, skipped, fingerprint, code, libraries, sha = row[10:]
        body = store.get(artifacts.key_of(uri))
        assert sha == provenance.sha256(body) and len(fingerprint) == 64
        assert model_id.startswith(f"churn_20241231_{name}_") and len(model_id.rsplit("_", 1)[1]) == 10
        assert str(ACTIVE_DAYS) in population and str(data_to) == "2024-12-31" and json.loads(skipped) == []
        assert set(json.loads(libraries)) >= {"scikit-learn", "numpy", "pandas", "joblib", "scipy"} and code
        assert artifacts.load_model(body)["provenance"]["data_fingerprint"] == fingerprint
    # the other date trained on the same examples, but is another version: other ids, nothing overwritten
    ids = {r[0] for r in after_second["MODEL_REGISTRY"]}
    assert len(ids) == 4
    key = artifacts.key_of(after_first["MODEL_REGISTRY"][0][8])
    with pytest.raises(artifacts.ModelVersionConflict):
        artifacts.put_immutable(store, key, b"other bytes", "application/octet-stream")
    recipe = {"data_fingerprint": "a" * 64, "code_version": "abc"}
    assert provenance.model_id("20241231", "m", recipe) == provenance.model_id("20241231", "m", dict(recipe))
    assert provenance.model_id("20241231", "m", recipe) != provenance.model_id(
        "20241231", "m", {**recipe, "data_fingerprint": "b" * 64}
    )


def test_monitoring_records_stability_and_the_realised_quality_of_matured_scores(trained) -> None:
    from sklearn.metrics import roc_auc_score

    from include.ml.metrics import expected_calibration_error
    from include.ml.monitoring import PSI_ALERT

    *_, (summary, rows, expected) = trained
    psi = {subject: (value, threshold, status) for measure, subject, value, threshold, status in rows
           if measure == "psi"}  # fmt: skip
    assert set(psi) == {*FEATURES, "churn_score"}
    assert all(t == PSI_ALERT and s == ("alert" if v > PSI_ALERT else "ok") for v, t, s in psi.values())
    realised = {measure: (subject, value) for measure, subject, value, _, _ in rows if measure.startswith("realised")}
    assert {s for s, _ in realised.values()} == {str(MATURED)}
    assert realised["realised_rows"][1] == len(expected) > 200
    y, p = expected["churned"].to_numpy(), expected["churn_score"].to_numpy()
    assert realised["realised_roc_auc"][1] == pytest.approx(roc_auc_score(y, p), abs=1e-6)
    assert realised["realised_ece"][1] == pytest.approx(expected_calibration_error(y, p), abs=1e-6)
    assert summary["measures"] == len(rows) and summary["realised"]["realised_roc_auc"] > 0.6


def test_psi_is_zero_for_the_reference_itself_and_flags_a_shifted_population() -> None:
    import numpy as np
    import pandas as pd

    from include.ml.features import CATEGORICAL, NUMERIC
    from include.ml.monitoring import PSI_ALERT, reference, stability

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({c: rng.gamma(2.0, 30.0, 5000) for c in NUMERIC})
    frame[CATEGORICAL[0]] = rng.choice(["consumer", "corporate", "home_office"], 5000)
    scores = rng.uniform(0, 1, 5000)
    ref = reference(frame, scores)
    same = stability(ref, frame, scores)
    assert max(m.value for m in same) < 0.01 and {m.status for m in same} == {"ok"}
    shifted = frame.assign(recency_days=frame["recency_days"] * 3, segment="consumer")
    flagged = {m.subject for m in stability(ref, shifted, scores) if m.status == "alert"}
    assert flagged == {"recency_days", "segment"} and PSI_ALERT == 0.25


def test_a_cutoff_whose_label_window_has_an_undelivered_day_is_not_used() -> None:
    from include.ml.features import plan_cutoffs

    start, end = date(2024, 1, 2), date(2025, 12, 29)
    every_day = {start + timedelta(days=i) for i in range((end - start).days + 1)}
    full = plan_cutoffs(start, end, delivered=every_day)
    assert full == plan_cutoffs(start, end) and full.skipped == ()
    # one missing orders day inside the holdout's window and one inside a training cut-off's
    gap_holdout, gap_train = full.holdout + timedelta(days=40), full.final_train[0] + timedelta(days=5)
    plan = plan_cutoffs(start, end, delivered=every_day - {gap_holdout, gap_train})
    for cutoff in [plan.holdout, *plan.final_train, *(c for train, valid in plan.folds for c in (*train, valid))]:
        window = {cutoff + timedelta(days=d) for d in range(1, HORIZON_DAYS + 1)}
        assert not window & {gap_holdout, gap_train}, cutoff
    assert plan.holdout == gap_holdout - timedelta(days=HORIZON_DAYS + 1)  # the latest complete cut-off
    assert full.holdout in plan.skipped and len(plan.folds) == 3 and len(plan.final_train) == 2
    for cutoff in plan.skipped:  # every cut-off left out had a gap in its window
        window = {cutoff + timedelta(days=d) for d in range(1, HORIZON_DAYS + 1)}
        assert window & {gap_holdout, gap_train}, cutoff


def test_a_dates_rows_come_back_exactly_and_a_rewrite_replaces_only_that_date() -> None:
    """replace_date_rows stages a CSV file and COPies it: text with quotes, commas, new lines and
    non-ASCII, NULLs, floats to the last bit and dates survive it; rewriting a date keeps others."""
    import pandas as pd

    from include.ml.registry import replace_date_rows
    from local.history import in_process_warehouse

    day, other = date(2025, 3, 4), date(2025, 3, 5)
    hostile = ['say "no", twice', "line one\nline two", "Zoë; 5 €", "", None, "'); drop table x; --"]
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:09d}" for i in range(len(hostile))],
            "business_date": day,
            "model_id": "m1",
            "tenure_days": [0.1 + 0.2, 1 / 3, 1e-300, -2.5e17, float("nan"), 7.0],
            "purchases_total": [None, 3.0, None, 0.0, None, 12.0],
            "segment": hostile,
        }
    )
    columns = ", ".join(frame.columns)
    with in_process_warehouse() as hook:
        cur = hook.get_conn().cursor()

        def rows(d: date) -> list[tuple]:
            query = (
                f"select {columns} from RETAIL_DB.ML.CUSTOMER_FEATURE_SNAPSHOT where business_date = '{d}' order by 1"
            )
            return cur.execute(query).fetchall()

        replace_date_rows(hook, "CUSTOMER_FEATURE_SNAPSHOT", other, frame.assign(business_date=other).head(2))
        replace_date_rows(hook, "CUSTOMER_FEATURE_SNAPSHOT", day, frame)
        replace_date_rows(hook, "CUSTOMER_FEATURE_SNAPSHOT", day, frame)  # a re-run: one copy
        got = rows(day)
        assert len(got) == len(frame) and len(rows(other)) == 2

        def missing(v: object) -> bool:
            return v is None or v != v  # NULL back, NaN or None in

        for (customer, d, model_id, *values), expected in zip(got, frame.itertuples(index=False), strict=True):
            assert (customer, d, model_id) == (expected.customer_id, day, "m1")
            for value, sent in zip(values, expected[3:], strict=True):
                # an empty text may come back NULL from the stand-in (DuckDB reads a quoted "" as NULL)
                assert value == sent or (missing(value) and (missing(sent) or sent == "")), (value, sent)
        replace_date_rows(hook, "CUSTOMER_FEATURE_SNAPSHOT", day, frame.head(0))
        assert rows(day) == [] and len(rows(other)) == 2
