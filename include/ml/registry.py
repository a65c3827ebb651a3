"""Champion/challenger: the promotion rule, and the registry, metrics and score tables.

Every write replaces the business date's rows in one transaction (delete + insert), so a re-run
of a date leaves exactly one copy. The champion at a date is the latest model promoted by a run
of that date or an earlier one, so a backfill of an old date compares against what was champion
then.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from include.sql_render import render_sql
from include.warehouse import transaction

# A challenger replaces the champion only when it is this much better on the same holdout ...
PROMOTION_MARGIN_AUC = 0.005
# ... and calibrated well enough to act on its probabilities.
MAX_ECE = 0.05


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def decide(
    challenger: dict[str, float],
    champion: dict[str, float] | None,
    margin: float = PROMOTION_MARGIN_AUC,
    max_ece: float = MAX_ECE,
) -> Decision:
    """Promote when there is no champion yet, or the challenger beats it on this holdout by ``margin``
    ROC AUC; never when the challenger's calibration error exceeds ``max_ece``."""
    auc, ece = challenger["roc_auc"], challenger["ece"]
    if ece > max_ece:
        return Decision(False, f"not promoted: holdout ECE {ece:.4f} > {max_ece}")
    if champion is None:
        return Decision(True, f"promoted: no champion yet (holdout ROC AUC {auc:.4f}, ECE {ece:.4f})")
    gain = auc - champion["roc_auc"]
    if gain >= margin:
        return Decision(
            True,
            f"promoted: holdout ROC AUC {auc:.4f} beats the champion's {champion['roc_auc']:.4f} by {gain:.4f} "
            f">= {margin}",
        )
    return Decision(
        False,
        f"not promoted: holdout ROC AUC {auc:.4f} vs the champion's {champion['roc_auc']:.4f} "
        f"(gain {gain:.4f} < {margin})",
    )


@dataclass(frozen=True)
class RegistryRow:
    model_id: str
    model_name: str
    version: str
    business_date: date
    params: dict[str, Any]
    features: list[str]
    train_from: date
    train_to: date
    holdout_cutoff: date
    label_horizon_days: int
    train_rows: int
    holdout_rows: int
    status: str  # champion | challenger | candidate
    decision_reason: str
    artifact_uri: str
    report_uri: str
    run_id: str

    def params_for_sql(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["params"] = json.dumps(self.params, sort_keys=True, default=str)
        out["features"] = json.dumps(self.features)
        return out


def champion_as_of(hook: Any, business_date: date) -> dict[str, Any] | None:
    """The model promoted last by a run of ``business_date`` or before it, or None."""
    return _one(hook, render_sql("ml/champion_as_of.sql"), {"business_date": business_date})


def champion_before(hook: Any, business_date: date) -> dict[str, Any] | None:
    """The champion a run of ``business_date`` must beat (promoted by an earlier date)."""
    return _one(hook, render_sql("ml/champion_before.sql"), {"business_date": business_date})


def _one(hook: Any, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        cur.execute(sql, params)
        row = cur.fetchone()
        return dict(zip([d[0].lower() for d in cur.description], row, strict=True)) if row else None
    finally:
        conn.close()


def replace_training(
    hook: Any, business_date: date, registry: Sequence[RegistryRow], metrics: Iterable[tuple[str, str, str, float]]
) -> None:
    """The date's registry and metric rows, replaced. metrics: (model id, split, metric, value)."""
    frame = pd.DataFrame(list(metrics), columns=["model_id", "split", "metric", "value"])
    # 6 decimals: figures for people; float noise below that must not make a re-run differ
    frame["value"] = frame["value"].astype(float).round(6)
    frame.insert(1, "business_date", business_date)
    replace_date_rows(hook, "MODEL_METRICS", business_date, frame)
    registry_frame = pd.DataFrame([r.params_for_sql() for r in registry])
    replace_date_rows(hook, "MODEL_REGISTRY", business_date, registry_frame)


def replace_scores(hook: Any, business_date: date, rows: list[dict[str, Any]]) -> None:
    """The date's churn scores, replaced."""
    columns = ["customer_id", "business_date", "churn_score", "decile", "model_id", "features_as_of"]
    replace_date_rows(hook, "CUSTOMER_CHURN_SCORE", business_date, pd.DataFrame(rows, columns=columns))


INSERT_CHUNK = 1000  # rows per INSERT statement (values are bound, never formatted into the SQL)


def replace_date_rows(hook: Any, table: str, business_date: date, frame: pd.DataFrame) -> None:
    """Replace ``table``'s rows of one business date with ``frame`` in one transaction: readers see
    the old rows or the new, never none or both; a re-run leaves one copy."""
    columns = list(frame.columns)
    records = [tuple(_plain(v) for v in row) for row in frame.itertuples(index=False, name=None)]
    with transaction(hook) as cur:
        cur.execute(render_sql("ml/delete_date_rows.sql", table=table), [business_date])
        for i in range(0, len(records), INSERT_CHUNK):
            chunk = records[i : i + INSERT_CHUNK]
            sql = render_sql("ml/insert_rows.sql", table=table, columns=columns, rows=len(chunk))
            cur.execute(sql, [v for row in chunk for v in row])


def _plain(value: Any) -> Any:
    """numpy scalars and NaN as the connector binds them."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
