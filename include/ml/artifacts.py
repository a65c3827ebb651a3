"""Model files and the model report in object storage (S3 in every environment; never /tmp or XCom)."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from hashlib import sha256
from html import escape
from pathlib import Path
from typing import Any, Protocol

import joblib
import numpy as np
import pandas as pd

from include.ml.metrics import CALIBRATION_BINS, decile_table


class ObjectStore(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> str: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...


class ModelVersionConflict(Exception):
    """A model file already exists under this id with other content: ids must never be reused."""


def put_immutable(store: ObjectStore, key: str, body: bytes, content_type: str) -> str:
    """Write ``key`` once: the same bytes again is a no-op re-write (a re-run of a date), other
    bytes under an existing key are refused."""
    if store.exists(key) and (old := store.get(key)) != body:
        raise ModelVersionConflict(
            f"{key} exists with other content (sha256 {sha256(old).hexdigest()[:12]} != "
            f"{sha256(body).hexdigest()[:12]}); a model id is never reused"
        )
    return store.put(key, body, content_type)


@dataclass(frozen=True)
class S3Store:
    """A bucket through the Airflow S3Hook (or anything with load_bytes/check_for_key/get_conn)."""

    hook: Any
    bucket: str

    def put(self, key: str, body: bytes, content_type: str) -> str:
        self.hook.load_bytes(body, key=key, bucket_name=self.bucket, replace=True)
        return f"s3://{self.bucket}/{key}"

    def get(self, key: str) -> bytes:
        # the hook's client, not S3Hook.get_key's resource (a second boto3 session per task)
        return self.hook.get_conn().get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def exists(self, key: str) -> bool:
        return bool(self.hook.check_for_key(key, bucket_name=self.bucket))


@dataclass(frozen=True)
class Boto3Store:
    """A bucket through boto3 (the Databricks job, which has no Airflow)."""

    client: Any
    bucket: str

    def put(self, key: str, body: bytes, content_type: str) -> str:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        return f"s3://{self.bucket}/{key}"

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


@dataclass(frozen=True)
class DirectoryStore:
    """A local directory laid out like the bucket (evaluation script, tests)."""

    root: Path

    def put(self, key: str, body: bytes, content_type: str) -> str:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        return path.as_uri()

    def get(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def exists(self, key: str) -> bool:
        return (self.root / key).is_file()


def model_prefix(model_id: str, version: str) -> str:
    """One folder per model id, under its training date. The model file is written once
    (``put_immutable``); a re-run of the date with the same inputs rewrites the same report."""
    return f"models/churn/{version}/{model_id}"


def key_of(uri: str) -> str:
    """The object key of an s3:// or file:// URI written by a store."""
    if uri.startswith("s3://"):
        return uri.split("/", 3)[3]
    marker = "/models/churn/"
    return "models/churn/" + uri.split(marker, 1)[1]


def dump_model(model: Any, meta: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    joblib.dump({"model": model, **meta}, buf)
    return buf.getvalue()


def load_model(body: bytes) -> dict[str, Any]:
    return joblib.load(io.BytesIO(body))  # noqa: S301 - our own artifact, from our own bucket


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def charts(
    y: np.ndarray, scored: dict[str, np.ndarray], baseline: tuple[str, np.ndarray] | None = None
) -> dict[str, bytes]:
    """The holdout's charts as PNG, drawn by scikit-learn's displays: ROC and precision-recall
    curves of every model in ``scored`` (this candidate and the champion it was measured against)
    and of a ranking ``baseline`` (recency alone; not a probability, so not in the calibration
    chart), the calibration curve with the customers in each bin, and the first model's lift."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import CalibrationDisplay
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    ranked = {**scored, **dict([baseline] if baseline else [])}
    out = {}
    for file, display, title, legend in (
        ("roc.png", RocCurveDisplay, "ROC (holdout)", "lower right"),
        ("pr.png", PrecisionRecallDisplay, "Precision-recall (holdout)", "lower left"),
    ):
        fig, ax = plt.subplots(figsize=(5, 4.5))
        for i, (name, p) in enumerate(ranked.items()):
            display.from_predictions(y, p, name=name, ax=ax, plot_chance_level=i == 0)
        ax.set_title(title)
        ax.legend(loc=legend, fontsize="small")
        out[file] = _png(fig)
        plt.close(fig)

    fig, (ax, counts) = plt.subplots(2, 1, figsize=(5, 6), height_ratios=[3, 1], sharex=True)
    for name, p in scored.items():
        CalibrationDisplay.from_predictions(y, p, n_bins=CALIBRATION_BINS, name=name, ax=ax)
        counts.hist(p, bins=np.linspace(0, 1, CALIBRATION_BINS + 1), histtype="step", label=name)
    ax.set_title("Calibration (holdout)")
    ax.legend(loc="upper left", fontsize="small")
    counts.set(xlabel="predicted churn probability", ylabel="customers per bin")
    counts.legend(loc="upper left", fontsize="x-small")
    out["calibration.png"] = _png(fig)
    plt.close(fig)

    name, p = next(iter(scored.items()))
    dec = decile_table(y, p)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.bar(dec["decile"], dec["lift"])
    ax.axhline(1.0, linestyle="--", color="grey")
    ax.set(xlabel="decile (1 = highest score)", ylabel="lift", title=f"Lift by decile: {name} (holdout)")
    out["lift.png"] = _png(fig)
    plt.close(fig)
    return out


def permutation_importance_table(model: Any, x: pd.DataFrame, y: np.ndarray, seed: int) -> pd.DataFrame:
    """How much the holdout ROC AUC drops when one feature's values are shuffled (3 repeats)."""
    from sklearn.inspection import permutation_importance

    result = permutation_importance(model, x, y, scoring="roc_auc", n_repeats=3, random_state=seed, n_jobs=1)
    table = pd.DataFrame(
        {"feature": x.columns, "auc_drop_mean": result.importances_mean, "auc_drop_std": result.importances_std}
    )
    return table.sort_values("auc_drop_mean", ascending=False, ignore_index=True).round(4)


def report_html(
    title: str,
    card: dict[str, Any],
    facts: dict[str, Any],
    tables: dict[str, pd.DataFrame],
    pngs: dict[str, bytes],
) -> bytes:
    """One self-contained HTML page: the model card, facts, tables (metrics per split and fold,
    comparison with the champion and the baseline, permutation importance), the charts inline."""
    cells = "<tr><th align='left'>{}</th><td>{}</td></tr>"

    def rows(values: dict[str, Any]) -> str:
        return "".join(cells.format(escape(str(k)), escape(str(v))) for k, v in values.items())

    images = "".join(
        f"<img alt='{escape(name)}' src='data:image/png;base64,{base64.b64encode(body).decode()}'>"
        for name, body in pngs.items()
    )
    sections = "".join(f"<h2>{escape(name)}</h2>{table.to_html(index=False)}" for name, table in tables.items())
    html = (
        f"<html><head><meta charset='utf-8'><title>{escape(title)}</title></head><body>"
        f"<h1>{escape(title)}</h1><h2>Model card</h2><table>{rows(card)}</table>"
        f"<h2>Facts</h2><table>{rows(facts)}</table>{sections}"
        f"<h2>Holdout charts</h2>{images}</body></html>"
    )
    return html.encode()
