"""Render the scoring job definition for a workspace and print it (or create/reset the job).

    python -m include.ml.databricks.deploy > job.json                 # review, then:
    databricks jobs create --json @job.json                           # first time: prints the job id
    databricks jobs reset --job-id <id> --json '{"job_id": <id>, "new_settings": ...}'  # later changes

Every ``${NAME}`` in churn_scoring_job.json is taken from the environment (no workspace details in
the repository); a missing one is an error. Pinned library versions come from requirements.txt so
the job scores with the same scikit-learn the model was trained with. Set the printed job id as
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


def render(env: dict[str, str]) -> dict:
    values = {
        "SNOWFLAKE_CONNECTOR_VERSION": pinned("snowflake-connector-python"),
        "SCIKIT_LEARN_VERSION": pinned("scikit-learn"),
        **env,
    }
    text = (HERE / "churn_scoring_job.json").read_text()
    missing = sorted({m for m in re.findall(r"\$\{(\w+)\}", text) if m not in values})
    if missing:
        raise KeyError(f"set these environment variables first: {', '.join(missing)}")
    return json.loads(Template(text).substitute(values))


def main() -> int:
    try:
        print(json.dumps(render(dict(os.environ)), indent=2))
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
