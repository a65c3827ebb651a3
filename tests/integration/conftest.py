"""A private local stack for the integration tests (state and ports set in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


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
