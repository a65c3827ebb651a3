"""A private local stack for the integration tests (state and ports set in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# Modules share one stack. make test-all starts two (local/test_all.sh): the modules marked
# second_stack run on the second, the others on the first, the secret scan (every_stack) on both,
# each stack in this order. test_ingestion owns "yesterday": it must be the first on its stack to
# unpause the daily DAG (unpausing makes the scheduler run yesterday). On the second stack, and in
# the quick tier (make test, the smoke module alone), yesterday's scheduled run, without files,
# just fails on its own. The churn model comes late and the secret scan last, over everything the
# others' runs left on its stack.
MODULE_ORDER = (
    "test_ingestion",
    "test_daily_smoke",
    "test_first_deploy",
    "test_run_log",
    "test_operator_commands",
    "test_transforms",
    "test_identity",
    "test_ui_backfill",
    "test_control_tower",
    "test_celery",
    "test_weekly_churn_model",
    "test_secrets",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("integration") is None:
            return -1  # unit and DAG tests first: fast feedback
        name = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        return MODULE_ORDER.index(name) if name in MODULE_ORDER else len(MODULE_ORDER)

    items.sort(key=rank)  # stable: tests keep their order within a module


_LOG_SIZES = pytest.StashKey[dict[str, int]]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    from local import stack

    item.stash[_LOG_SIZES] = stack.log_sizes()  # before the test's fixtures run


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """A failed test's report ends with what the stack's services logged as warnings and errors
    meanwhile (a scheduler's lost run-log row, a service's traceback): CI shows only the
    test output, and the logs stay on its host."""
    report = yield
    if report.failed and _LOG_SIZES in item.stash:
        from local import stack

        problems = stack.log_problems_since(item.stash[_LOG_SIZES])
        if problems:
            report.sections.append(("stack services: warnings and errors during this test", problems))
    return report


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


@pytest.fixture(scope="module")
def fresh_warehouse(stack: object) -> object:
    """An empty warehouse for a module whose assertions cover whole tables (ledger, GOLD, RFM)."""
    from local import identity, session

    identity.empty_warehouse(session.snowflake_hook("snowflake_deploy"))
    return stack


@pytest.fixture(scope="module", autouse=True)
def no_backfill_left_running(request: pytest.FixtureRequest) -> Iterator[None]:
    """A module whose test failed mid-backfill leaves no backfill behind (Airflow refuses a second
    backfill of the DAG while one runs): the next module's failures are its own."""
    yield
    if "stack" not in request.fixturenames:
        return
    from local import session

    api = request.getfixturevalue("stack")
    for backfill in api.running_backfills(session.DAILY_DAG):
        api.cancel_backfill(backfill)
