"""docs/production.md "First deploy on Snowflake", executed as written against the private stack.

The commands of steps 2 to 4 are read from the document's code blocks and run with the stack's
environment (``airflow`` is the stack's CLI, ``python`` the project's): the admin script, the
set-up DAG, the preflight. The preflight must pass on a stack so set up; then a grant is revoked
the way a hand-made change would, the preflight fails naming it with the statement that fixes it,
and that statement, run as printed, makes it pass again.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from include.config import ROLES, WAREHOUSE

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
FORMAT = WAREHOUSE.qualified(WAREHOUSE.bronze, WAREHOUSE.file_format)


def _documented_commands() -> list[str]:
    text = (REPO / "docs" / "production.md").read_text()
    section = text.split("## First deploy on Snowflake", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    return [line.split("#")[0].strip() for block in blocks for line in block.strip().splitlines() if line.strip()]


def _run(command: str) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(command)
    if argv[0] == "airflow":
        argv = [str(REPO / "local" / "airflow"), *argv[1:]]
    elif argv[0] == "python":
        argv = [sys.executable, *argv[1:]]
    return subprocess.run(argv, cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=600)


def _wait_for_setup(api, started_after: float) -> None:
    from local import session

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        runs = [r for r in api.runs(session.SETUP_DAG) if r["state"] in ("success", "failed")]
        finished = [r for r in runs if r.get("end_date") and _epoch(r["end_date"]) > started_after]
        if finished:
            assert finished[-1]["state"] == "success", finished[-1]
            return
        time.sleep(2)
    raise AssertionError("the set-up DAG did not finish")


def _epoch(timestamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def test_the_documented_first_deploy_passes_the_preflight(stack) -> None:
    from include.operator_commands import FIRST_DEPLOY

    commands = _documented_commands()
    assert tuple(commands) == FIRST_DEPLOY, commands
    prepare, trigger, preflight = commands
    done = _run(prepare)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the account is prepared" in done.stdout
    started = time.time()
    done = _run(trigger)
    assert done.returncode == 0, done.stdout + done.stderr
    _wait_for_setup(stack, started)
    done = _run(preflight)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert re.match(r"preflight: \d+ checks, 0 failed", summary), summary
    for section in ("connect", "session", "objects", "grants", "stage", "compile", "s3", "alerts"):
        assert f"PASS  {section}:" in done.stdout, section
    assert "SKIP  databricks: scoring job" in done.stdout  # scoring runs in Airflow on the local stack


def test_a_grant_revoked_by_hand_fails_the_preflight_with_its_fix(stack) -> None:
    from local import session

    admin = session.snowflake_hook()
    admin.run(f"revoke usage on file format {FORMAT} from role {ROLES.loader}", autocommit=True)
    try:
        done = _run("python -m include.preflight --only grants,stage")
        assert done.returncode == 1, done.stdout
        assert f"FAIL  grants: {ROLES.loader}" in done.stdout
        fix = f"grant usage on file format {FORMAT} to role {ROLES.loader};"
        assert f"fix: {fix}" in done.stdout
        assert "FAIL  stage: COPY of each feed" in done.stdout
    finally:
        admin.run(f"grant usage on file format {FORMAT} to role {ROLES.loader}", autocommit=True)
    done = _run("python -m include.preflight --only grants,stage")
    assert done.returncode == 0, done.stdout
