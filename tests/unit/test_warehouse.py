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
