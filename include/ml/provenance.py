"""What a model version is made of: its training data, code and libraries, and a content hash.

A model id is derived from these (``model_id``): the same data, code, libraries and parameters
give the same id (a re-run of a date is idempotent and trains the same bytes), and anything
different gives a new id, so an id never names two different models and no model file is ever
overwritten by another.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

# the libraries a pickled model needs at load time, at the versions it was trained with
MODEL_LIBRARIES = ("scikit-learn", "numpy", "scipy", "pandas", "joblib")
REPO_ROOT = Path(__file__).resolve().parents[2]


def library_versions() -> dict[str, str]:
    versions = {name: metadata.version(name) for name in MODEL_LIBRARIES}
    versions["python"] = platform.python_version()
    return versions


def code_version() -> str:
    """The deployed commit: ``RETAIL_CODE_VERSION`` (set by the deployment, and by the Databricks
    job from its pinned commit), else ``git describe`` of this checkout (``-dirty`` when it has
    uncommitted changes), else ``unknown``."""
    if version := os.environ.get("RETAIL_CODE_VERSION"):
        return version
    try:
        out = subprocess.run(  # noqa: S603 - fixed arguments
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],  # noqa: S607
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def data_fingerprint(frame: pd.DataFrame, columns: list[str]) -> str:
    """sha256 of the rows' values in ``columns`` (row order included: rows are sorted upstream)."""
    hashed = pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()
    digest = hashlib.sha256(hashed.tobytes())
    digest.update(json.dumps(columns).encode())
    return digest.hexdigest()


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def model_id(version: str, name: str, recipe: dict[str, Any]) -> str:
    """``churn_<YYYYMMDD>_<candidate>_<10 hex>``: the hash covers everything that makes the model."""
    digest = sha256(json.dumps({"name": name, **recipe}, sort_keys=True, default=str).encode())
    return f"churn_{version}_{name}_{digest[:10]}"
