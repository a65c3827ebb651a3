"""A step's statements on one connection (include/warehouse.py), on the in-process stand-in."""

from __future__ import annotations

from typing import Any

import pytest

from include.warehouse import one_connection, transaction
from local.history import InProcessHook, in_process_warehouse

TABLE = "RETAIL_DB.AUDIT.T_ONE_CONNECTION"


class CountingHook(InProcessHook):
    def __init__(self) -> None:
        self.opened: list[Any] = []

    def get_conn(self) -> Any:
        self.opened.append(super().get_conn())
        return self.opened[-1]


def _values(hook: Any) -> list[int]:
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        cur.execute(f"select v from {TABLE} order by v")
        return [v for (v,) in cur.fetchall()]
    finally:
        conn.close()


@pytest.fixture
def warehouse():
    with in_process_warehouse() as hook:
        yield hook


def test_a_blocks_calls_share_one_connection_and_a_failed_transaction_leaves_nothing(warehouse) -> None:
    hook = CountingHook()
    with one_connection(hook):
        with transaction(hook) as cur:
            cur.execute(f"create or replace table {TABLE} (v int)")
            cur.execute(f"insert into {TABLE} values (1)")
        with pytest.raises(RuntimeError, match="planted"), transaction(hook) as cur:
            cur.execute(f"insert into {TABLE} values (2)")
            raise RuntimeError("planted")
        # the same connection, after the rollback: only the committed row
        assert _values(hook) == [1]
        with transaction(hook) as cur:
            cur.execute(f"insert into {TABLE} values (3)")
    assert len(hook.opened) == 1, "one login for the whole block"
    assert hook.opened[0].is_closed(), "closed when the block ends"
    # a connection of its own sees what the block committed, and nothing it rolled back
    assert _values(InProcessHook()) == [1, 3]
    # outside a block, each call has its own connection again
    _values(hook)
    assert len(hook.opened) == 2


def test_an_error_in_the_block_still_closes_its_connection(warehouse) -> None:
    hook = CountingHook()
    with pytest.raises(ZeroDivisionError), one_connection(hook):
        hook.get_conn().cursor().execute("select 1")
        1 / 0  # noqa: B018
    assert len(hook.opened) == 1 and hook.opened[0].is_closed()


def test_files_put_into_a_stage_of_the_in_process_warehouse_leave_nothing_behind(tmp_path) -> None:
    import os

    from fakesnow.transforms import stage

    made_at_import = stage.LOCAL_BUCKET_PATH
    source = tmp_path / "rows.csv"
    source.write_text("a\n1\n")
    with in_process_warehouse() as hook:
        folder = stage.LOCAL_BUCKET_PATH
        conn = hook.get_conn()
        cur = conn.cursor()
        cur.execute(f"put 'file://{source}' @RETAIL_DB.ML.ML_ROWS/t/ auto_compress = false overwrite = true")
        assert [row[-2] for row in cur.fetchall()] == ["UPLOADED"]
        assert [f for _, _, files in os.walk(folder) for f in files] == ["rows.csv"]
        conn.close()
    assert not os.path.exists(folder), "the block's stage folder is removed at its end"
    assert not os.path.exists(made_at_import), "fakesnow's own temporary folder is not left behind"


def test_every_connection_the_platform_opens_sets_its_session_parameters() -> None:
    """TIMEZONE (Snowflake's default is America/Los_Angeles), AUTOCOMMIT and LOCK_TIMEOUT on every
    Snowflake connection: each hook or connector call in the code passes them (a hook's
    ``session_parameters`` replace its connection's), and the hooks built for each task carry UTC."""
    import ast
    from pathlib import Path

    from include.warehouse import SESSION_PARAMETERS, hook_params, snowflake_hook

    repo = Path(__file__).resolve().parents[2]
    unset = []
    for folder in ("dags", "include", "plugins", "local", "benchmarks"):
        for path in (repo / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                is_connect = name == "connect" and "snowflake.connector" in ast.unparse(node.func)
                if name == "SnowflakeHook" or is_connect:
                    passed = {k.arg for k in node.keywords}
                    spread = any(k.arg is None for k in node.keywords)  # **hook_params(...)
                    if "session_parameters" not in passed and not spread:
                        unset.append(f"{path.relative_to(repo)}:{node.lineno}")
    assert unset == [], f"Snowflake connections without the platform's session parameters: {unset}"
    assert SESSION_PARAMETERS["TIMEZONE"] == "UTC" and SESSION_PARAMETERS["AUTOCOMMIT"] is True
    for kind in ("loader", "transformer", "ml", "run_logger", "control_tower"):
        assert snowflake_hook(kind).session_parameters["TIMEZONE"] == "UTC"
        assert hook_params(kind)["session_parameters"]["LOCK_TIMEOUT"] <= 3600


def test_the_sql_steps_and_the_set_up_carry_the_session_parameters() -> None:
    from datetime import datetime
    from pathlib import Path

    from airflow.dag_processing.dagbag import DagBag

    from include.transform.operators import LayerSQLOperator

    step = LayerSQLOperator(task_id="silver_orders", sql="select 1")
    context = {"params": {"lookback_days": 0, "business_date": None}, "logical_date": datetime(2026, 6, 1)}
    step.render_template_fields(context)
    assert step.hook_params["session_parameters"]["TIMEZONE"] == "UTC"
    setup_file = Path(__file__).resolve().parents[2] / "dags" / "retail_warehouse_setup.py"
    bag = DagBag(dag_folder=str(setup_file), safe_mode=False)
    setup = bag.dags["retail_warehouse_setup"]
    sql_tasks = [t for t in setup.tasks if hasattr(t, "hook_params")]
    assert sql_tasks and all(t.hook_params["session_parameters"]["TIMEZONE"] == "UTC" for t in sql_tasks)
