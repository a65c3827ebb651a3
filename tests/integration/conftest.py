"""A private local stack for the integration tests: own ports and state, started once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Before local.stack is imported: never touch a developer's running stack.
os.environ.setdefault("RCT_STATE_DIR", str(REPO / "var" / "test-stack"))
for name, port in (("AIRFLOW", 18180), ("S3", 19180), ("SNOWFLAKE", 19181), ("SMTP", 19182)):
    os.environ.setdefault(f"RCT_{name}_PORT", str(port))


@pytest.fixture(scope="session")
def stack() -> Iterator[object]:
    from local import session, stack
    from local.airflow_api import AirflowAPI

    stack.reset()
    try:
        stack.up()
        session.use_stack_env()
        api = AirflowAPI()
        session.run_setup(api)
        yield api
    finally:
        stack.down()
