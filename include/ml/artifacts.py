"""Model files and the model report in object storage (S3 in every environment; never /tmp or XCom)."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Protocol

import joblib
import numpy as np
import pandas as pd

from include.ml.metrics import calibration_table, decile_table


class ObjectStore(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> str: ...
    def get(self, key: str) -> bytes: ...


@dataclass(frozen=True)
class S3Store:
    """A bucket through the Airflow S3Hook (or anything with load_bytes/get_key)."""

    hook: Any
    bucket: str

    def put(self, key: str, body: bytes, content_type: str) -> str:
        self.hook.load_bytes(body, key=key, bucket_name=self.bucket, replace=True)
        return f"s3://{self.bucket}/{key}"

    def get(self, key: str) -> bytes:
        return self.hook.get_key(key, bucket_name=self.bucket).get()["Body"].read()


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


def model_prefix(model_id: str, version: str) -> str:
    """Versioned: one folder per training date and candidate; a re-run of the date overwrites it."""
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


def charts(y: np.ndarray, p: np.ndarray) -> dict[str, bytes]:
    """ROC curve, calibration curve and decile lift chart of one split, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    out = {}
    fpr, tpr, _ = roc_curve(y, p)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot(fpr, tpr, label="model")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (holdout)")
    ax.legend(loc="lower right")
    out["roc.png"] = _png(fig)
    plt.close(fig)

    cal = calibration_table(y, p)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot(cal["mean_predicted"], cal["observed"], marker="o", label="model")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    ax.set(xlabel="mean predicted churn probability", ylabel="observed churn rate", title="Calibration (holdout)")
    ax.legend(loc="upper left")
    out["calibration.png"] = _png(fig)
    plt.close(fig)

    dec = decile_table(y, p)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.bar(dec["decile"], dec["lift"])
    ax.axhline(1.0, linestyle="--", color="grey")
    ax.set(xlabel="decile (1 = highest score)", ylabel="lift", title="Lift by decile (holdout)")
    out["lift.png"] = _png(fig)
    plt.close(fig)
    return out


def report_html(title: str, facts: dict[str, Any], metrics: pd.DataFrame, pngs: dict[str, bytes]) -> bytes:
    """One self-contained HTML page: facts, metrics per split, the three charts inline."""
    cells = "<tr><th align='left'>{}</th><td>{}</td></tr>"
    rows = "".join(cells.format(escape(str(k)), escape(str(v))) for k, v in facts.items())
    images = "".join(
        f"<img alt='{escape(name)}' src='data:image/png;base64,{base64.b64encode(body).decode()}'>"
        for name, body in pngs.items()
    )
    html = (
        f"<html><head><meta charset='utf-8'><title>{escape(title)}</title></head><body>"
        f"<h1>{escape(title)}</h1><table>{rows}</table><h2>Metrics</h2>{metrics.to_html(index=False)}"
        f"<h2>Holdout charts</h2>{images}</body></html>"
    )
    return html.encode()
