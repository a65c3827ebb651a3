"""Render the scoring job definition for a workspace and print it (or create/reset the job).

    python -m include.ml.databricks.deploy > job.json                 # review, then:
    databricks jobs create --json @job.json                           # first time: prints the job id
    databricks jobs reset --job-id <id> --json '{"job_id": <id>, "new_settings": ...}'  # later changes

Every ``${NAME}`` in churn_scoring_job.json is taken from the environment (no workspace details in
the repository); a missing one is an error. The job checks out one commit (``RETAIL_REPO_COMMIT``,
the full hash of the code Airflow runs, never a branch head) and installs every library the
scoring code and the pickled model need at the versions requirements.txt pins, so the job
unpickles and scores with exactly the numpy, pandas, scipy, joblib and scikit-learn the model was
trained with. Set the printed job id as
``RETAIL_DATABRICKS_SCORING_JOB_ID`` and ``RETAIL_ML_SCORING_BACKEND=databricks`` in Airflow.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from string import Template

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE.parents[2] / "requirements.txt"


def pinned(package: str) -> str:
    for line in REQUIREMENTS.read_text().splitlines():
        if m := re.fullmatch(rf"{re.escape(package)}==(\S+)", line.strip()):
            return m[1]
    raise KeyError(f"{package} is not pinned in requirements.txt")


# What include/ml/score.py imports, directly or through the model's pickle, beyond the runtime's
# standard library: each installed at the version requirements.txt pins.
JOB_PACKAGES = (
    "scikit-learn",
    "numpy",
    "scipy",
    "pandas",
    "joblib",
    "threadpoolctl",
    "pyarrow",
    "snowflake-connector-python",
    "boto3",
    "jinja2",
    "pyyaml",
    "matplotlib",
)


def libraries() -> list[dict[str, dict[str, str]]]:
    return [{"pypi": {"package": f"{package}=={pinned(package)}"}} for package in JOB_PACKAGES]


def render(env: dict[str, str]) -> dict:
    text = (HERE / "churn_scoring_job.json").read_text()
    missing = sorted({m for m in re.findall(r"\$\{(\w+)\}", text) if m not in env})
    if missing:
        raise KeyError(f"set these environment variables first: {', '.join(missing)}")
    commit = env["RETAIL_REPO_COMMIT"]
    if not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise KeyError(f"RETAIL_REPO_COMMIT must be a full 40-character commit hash, got {commit!r}")
    job = json.loads(Template(text).substitute(env))
    for task in job["tasks"]:
        task["libraries"] = libraries()
    return job


def main() -> int:
    try:
        print(json.dumps(render(dict(os.environ)), indent=2))
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
