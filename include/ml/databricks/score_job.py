"""Databricks entry point of the churn scoring job (``churn_scoring_job.json``).

Databricks runs this file from the repository checkout; it puts the checkout on the import path
and runs the same ``include.ml.score`` the Airflow task runs locally.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from include.ml.score import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
