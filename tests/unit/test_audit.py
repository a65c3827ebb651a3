"""Run-log rows: what a task reports is found, a failed or slow write never reaches the task."""

from __future__ import annotations

import os
import re
import sys
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from include import audit


def test_rows_and_query_ids_are_found_at_any_depth() -> None:
    result = {
        "window": "2026-06-01..2026-06-08",
        "silver": {"steps": [{"object": "orders", "rows_affected": [10, 5], "query_ids": ["a", "b"]}], "checks": 79},
        "gold": {"steps": [{"object": "daily_revenue", "rows_affected": [7], "query_ids": ["c"]}]},
    }
    assert audit.task_metrics(result) == (22, ["a", "b", "c"])
    loaded = {"rows_loaded": 806, "rows_rejected": 2, "query_ids": ["q1", "q2"]}
    assert audit.task_metrics(loaded) == (806, ["q1", "q2"])


def test_a_task_that_reports_no_rows_has_none_not_zero() -> None:
    assert audit.task_metrics(None) == (None, [])
    assert audit.task_metrics([{"file": "x"}]) == (None, [])
    assert audit.task_metrics({"rows_loaded": True}) == (None, [])  # a flag is not a count


def test_errors_are_classified_and_bounded() -> None:
    assert audit.error_fields(None) == (None, None)
    cls, message = audit.error_fields(ValueError("x" * 5000))
    assert cls == "ValueError" and len(message) == audit.ERROR_MESSAGE_CHARS
    assert audit.error_fields("TaskInstance's state was manually set to `failed`.")[0] == "error"


def test_timestamps_are_stored_as_naive_utc() -> None:
    aware = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    berlin = aware.astimezone(ZoneInfo("Europe/Berlin"))
    assert berlin.hour == 4 and audit.naive_utc(berlin) == datetime(2026, 6, 1, 2, 0)
    assert audit.duration(aware, aware + timedelta(seconds=1.25)) == 1.25
    assert audit.duration(aware, None) is None


def _row() -> audit.TaskTry:
    return audit.TaskTry(
        "retail_daily",
        "sweep_inbox",
        "r1",
        -1,
        1,
        date(2026, 6, 1),
        "success",
        3,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        "host",
        "op",
        "worker",
    )


def test_a_failing_write_is_logged_and_counted_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    def broken(sql_file: str, params: dict) -> None:
        raise ConnectionError("warehouse unreachable")

    before = audit.audit_write_failures()
    audit.record_task_try(_row(), execute=broken)  # must not raise
    assert audit.audit_write_failures() == before + 1
    assert "audit write failed" in caplog.text and "warehouse unreachable" in caplog.text
    assert "sweep_inbox" in caplog.text  # which row was lost


def test_a_hanging_write_does_not_hold_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    monkeypatch.setattr(audit, "AUDIT_TIMEOUT_SECONDS", 0.2)
    before = audit.audit_write_failures()
    started = datetime.now()
    audit.record_task_try(_row(), execute=lambda sql_file, params: release.wait(5))
    assert (datetime.now() - started).total_seconds() < 2
    assert audit.audit_write_failures() == before + 1
    release.set()


def test_the_write_carries_every_column_of_the_merge() -> None:
    seen: dict = {}
    audit.record_task_try(_row(), execute=lambda sql_file, params: seen.update(file=sql_file, params=params))
    from include.sql_render import render_sql

    sql = render_sql(seen["file"])
    for name in seen["params"]:
        assert f"%({name})s" in sql, name


@pytest.mark.parametrize(
    ("existing", "statements"),
    [
        (False, ["insert"]),  # a failed try's own process: its row is new
        (True, ["insert", "update"]),  # a state set in the UI after the try's row was written
    ],
)
def test_a_try_s_row_costs_one_statement_unless_it_is_there_already(existing, statements) -> None:
    table: dict[tuple, str] = {("sweep_inbox", 1): "failed"} if existing else {}
    ran: list[str] = []

    def execute(sql_file: str, params: dict) -> int:
        kind = sql_file.removeprefix("audit/").removesuffix("_task_try.sql")
        ran.append(kind)
        key, present = (params["task_id"], params["try_number"]), (params["task_id"], params["try_number"]) in table
        if kind == "insert" and not present or kind == "update" and present:
            table[key] = params["state"]
            return 1
        return 0

    audit.record_task_try(replace(_row(), state="success"), execute=execute)
    assert ran == statements and table == {("sweep_inbox", 1): "success"}


def test_an_alert_outcome_carries_every_column_of_its_insert() -> None:
    seen: dict = {}
    row = audit.AlertOutcome("retail_daily", "t", "r", "[retail_daily] FAILED", "SmtpNotifier", "lost", 3, "e", "h")
    audit.record_alert(row, execute=lambda sql_file, params: seen.update(file=sql_file, params=params))
    from include.sql_render import render_sql

    sql = render_sql(seen["file"])
    assert "ALERT_LOG" in sql and set(seen["params"]) == set(re.findall(r"%\((\w+)\)s", sql))


def _plugin():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "plugins" / "retail_audit_listener.py"
    spec = importlib.util.spec_from_file_location("retail_audit_listener", path)
    plugin = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = plugin  # as Airflow's plugin loader does
    spec.loader.exec_module(plugin)
    return plugin


def test_the_listener_builds_a_row_from_the_task_process() -> None:
    plugin = _plugin()
    start = datetime(2026, 6, 2, 1, 0, tzinfo=UTC)
    ti = SimpleNamespace(
        dag_id="retail_daily",
        task_id="ingest_orders.load_bronze",
        run_id="backfill__2026-06-02T00:00:00+00:00",
        map_index=-1,
        try_number=2,
        max_tries=2,
        start_date=start,
        end_date=start + timedelta(seconds=12.5),
        state="up_for_retry",
        task=SimpleNamespace(task_type="_PythonDecoratedOperator"),
        get_template_context=lambda: {"logical_date": datetime(2026, 6, 1, tzinfo=UTC), "params": {}},
    )
    row = plugin._task_try(ti, "up_for_retry", "running", ConnectionError("stage unreachable"))
    assert (row.business_date, row.try_number, row.max_tries, row.state) == (date(2026, 6, 1), 2, 3, "up_for_retry")
    assert (row.error_class, row.error_message, row.duration_s, row.reported_by) == (
        "ConnectionError",
        "stage unreachable",
        12.5,
        "worker",
    )
    # what the task wrote comes from its return value, for a success only
    done = plugin._task_try(ti, "success", "running", result={"rows_loaded": 507, "query_ids": ["q1", "q2"]})
    assert (done.rows_affected, done.query_ids) == (507, "q1,q2")
    # a try failed outside its process may have no end date yet
    failed = plugin._task_try(SimpleNamespace(**{**vars(ti), "end_date": None}), "failed", "running")
    assert failed.ended_at is not None and failed.duration_s > 0
    # the same task marked failed from the UI: reported by the API server, with Airflow's message
    orm = SimpleNamespace(**{k: v for k, v in vars(ti).items() if k != "get_template_context"})
    orm.dag_run = SimpleNamespace(logical_date=datetime(2026, 6, 1, tzinfo=UTC), run_after=start, conf={})
    row = plugin._task_try(orm, "failed", None, "TaskInstance's state was manually set to `failed`.")
    assert (row.reported_by, row.rows_affected, row.error_class, row.business_date) == (
        "api",
        None,
        "error",
        date(2026, 6, 1),
    )


def test_a_task_process_writes_its_row_only_when_its_try_failed(monkeypatch) -> None:
    """Successes and skips are written by the scheduler when the run ends: no warehouse login per task."""
    plugin = _plugin()
    written: list[tuple[str, bool]] = []
    monkeypatch.setattr(
        plugin.audit, "record_task_try", lambda row, background: written.append((row.state, background))
    )
    start = datetime(2026, 6, 2, 1, 0, tzinfo=UTC)

    def ti(state: str) -> SimpleNamespace:
        return SimpleNamespace(
            dag_id="retail_daily", task_id="silver.orders", run_id="r1", map_index=-1, try_number=1, max_tries=2,
            start_date=start, end_date=start, state=state, task=None,
            get_template_context=lambda: {"logical_date": start, "params": {}},
        )  # fmt: skip

    plugin.on_task_instance_success(None, ti("success"))
    plugin.on_task_instance_skipped(None, ti("skipped"))
    assert written == []
    plugin.on_task_instance_failed(None, ti("up_for_retry"), ValueError("x"))
    plugin.on_task_instance_failed(None, ti("failed"), ValueError("x"))
    assert written == [("up_for_retry", False), ("failed", False)]  # the process waits for its row
    orm = SimpleNamespace(**{k: v for k, v in vars(ti("success")).items() if k != "get_template_context"})
    orm.dag_run = SimpleNamespace(logical_date=start, run_after=start, conf={})
    plugin.on_task_instance_success(None, orm)  # marked success in the UI: the API server writes it
    assert written[-1] == ("success", True)


def _try(task_id: str, try_number: int, state: str) -> audit.TaskTry:
    return replace(_row(), task_id=task_id, try_number=try_number, state=state, reported_by="scheduler")


def test_settling_a_run_writes_its_missing_rows_in_one_statement() -> None:
    logged = [
        ("load", -1, 2),
        ("check", -1, 1),  # a failed try's process wrote its row
    ]
    written: list[tuple[str, list[tuple[str, int, str]]]] = []
    audit.settle_task_tries(
        "retail_daily",
        "r1",
        [_try("load", 1, "up_for_retry"), _try("load", 2, "success"), _try("check", 1, "failed"),
         _try("publish", 1, "success"), _try("wait_for_file", 1, "success")],
        execute_many=lambda sql_file, rows: written.append(
            (sql_file, [(r["task_id"], r["try_number"], r["state"]) for r in rows])
        ),
        fetch=lambda sql_file, params: logged if params == {"dag_id": "retail_daily", "run_id": "r1"} else [],
    )  # fmt: skip
    audit._executor().submit(lambda: None).result(timeout=5)  # the writer thread keeps the order
    assert written == [
        (
            "audit/insert_task_tries.sql",
            [("load", 1, "up_for_retry"), ("publish", 1, "success"), ("wait_for_file", 1, "success")],
        )
    ]
    audit.settle_task_tries(
        "retail_daily",
        "r1",
        [_try("load", 2, "success")],
        execute_many=lambda sql_file, rows: written.append((sql_file, rows)),
        fetch=lambda sql_file, params: logged,
    )
    audit._executor().submit(lambda: None).result(timeout=5)
    assert len(written) == 1, "nothing missing: nothing written"


def _drain() -> None:
    audit._executor().submit(lambda: None).result(timeout=10)  # the writer thread keeps the order


def test_the_scheduler_s_row_outlives_a_warehouse_restart(monkeypatch) -> None:
    """A background write (scheduler, API server) is tried again; it is counted lost only once
    every retry failed."""
    monkeypatch.setattr(audit, "BACKGROUND_RETRY_DELAYS", (0.01, 0.01, 0.01))
    calls: list[str] = []

    def down_twice(sql_file: str, params: dict) -> int:
        calls.append(sql_file)
        if len(calls) <= 2:
            raise ConnectionError("warehouse restarting")
        return 1

    _drain()  # earlier tests' writes are done: the count is this test's
    before = audit.audit_write_failures()
    run = audit.DagRunEntry(
        "retail_daily", "r1", date(2026, 6, 1), "backfill", "success", None, None, None, None, "scheduler"
    )
    audit.record_dag_run(run, execute=down_twice)
    _drain()
    assert calls == ["audit/record_dag_run.sql"] * 3 and audit.audit_write_failures() == before

    def down(sql_file: str, params: dict) -> int:
        calls.append(sql_file)
        raise ConnectionError("warehouse gone")

    calls.clear()
    audit.record_dag_run(run, execute=down)
    _drain()
    assert len(calls) == 4 and audit.audit_write_failures() == before + 1  # one row lost, counted once


def test_a_failed_try_s_own_process_does_not_retry(monkeypatch) -> None:
    monkeypatch.setattr(audit, "BACKGROUND_RETRY_DELAYS", (0.01,))
    calls: list[str] = []

    def down(sql_file: str, params: dict) -> int:
        calls.append(sql_file)
        raise ConnectionError("warehouse gone")

    audit.record_task_try(replace(_row(), state="failed"), execute=down)  # foreground: bounded wait
    assert calls == ["audit/insert_task_try.sql"]


def test_a_settle_whose_answer_was_lost_reads_again_and_inserts_nothing_twice(monkeypatch) -> None:
    """The insert committed but its answer never came back: the retry reads the rows first."""
    monkeypatch.setattr(audit, "BACKGROUND_RETRY_DELAYS", (0.01,))
    table: list[tuple[str, int, int]] = []

    def insert_then_lose_the_answer(sql_file: str, rows: list[dict]) -> int:
        table.extend((r["task_id"], r["map_index"], r["try_number"]) for r in rows)
        if len(table) == len(rows):  # the first insert
            raise ConnectionError("connection reset")
        return len(rows)

    _drain()  # earlier tests' writes are done: the count is this test's
    before = audit.audit_write_failures()
    audit.settle_task_tries(
        "retail_daily",
        "r1",
        [_try("load", 1, "success"), _try("publish", 1, "success")],
        execute_many=insert_then_lose_the_answer,
        fetch=lambda sql_file, params: list(table),
    )
    _drain()
    assert sorted(table) == [("load", -1, 1), ("publish", -1, 1)] and audit.audit_write_failures() == before


def test_a_dead_session_is_replaced_by_a_new_login(monkeypatch) -> None:
    """The scheduler keeps one warehouse session for days; when it has died (a restart, an idle
    timeout) the next row is written on a new one, not lost."""
    from airflow.providers.snowflake.hooks import snowflake as provider

    from local.history import InProcessHook, in_process_warehouse

    monkeypatch.setattr(audit, "BACKGROUND_RETRY_DELAYS", (0.01,))
    monkeypatch.setattr(provider, "SnowflakeHook", lambda **kwargs: InProcessHook())
    with in_process_warehouse() as hook:
        dead = hook.get_conn()
        dead.close()
        monkeypatch.setattr(audit, "_connection", dead)
        _drain()  # earlier tests' writes are done: the count is this test's
        before = audit.audit_write_failures()
        run = audit.DagRunEntry(
            "retail_daily", "r9", date(2026, 6, 1), "scheduled", "success", None, None, None, None, "scheduler"
        )
        audit.record_dag_run(run)
        _drain()
        assert audit.audit_write_failures() == before
        assert audit._connection is not dead
        cur = hook.get_conn().cursor()
        cur.execute("select state from RETAIL_DB.AUDIT.DAG_RUN_LOG where run_id = 'r9'")
        assert cur.fetchall() == [("success",)]
        audit._connection.close()


def test_a_failed_ending_written_twice_counts_once() -> None:
    """A retried write of the same ending (its first answer lost) does not count a second failure;
    a cleared run that fails again does."""
    from include.sql_render import render_sql
    from local.history import in_process_warehouse

    with in_process_warehouse() as hook:
        conn = hook.get_conn()
        cur = conn.cursor()

        def execute(sql_file: str, params: dict) -> int:
            cur.execute(render_sql(sql_file), params)
            return cur.rowcount

        ended = datetime(2026, 6, 2, 1, 0)
        failed = audit.DagRunEntry(
            "retail_daily", "r2", date(2026, 6, 1), "scheduled", "failed", ended, ended, 0.0, "x", "scheduler"
        )
        for row in (failed, failed, replace(failed, state="running", ended_at=None), failed):
            audit.record_dag_run(row, background=False, execute=execute)
        cur.execute("select times_failed from RETAIL_DB.AUDIT.DAG_RUN_LOG where run_id = 'r2'")
        assert cur.fetchall() == [(2,)]  # failed, (the same again), cleared and running, failed again
        conn.close()


def test_the_settling_insert_is_one_statement_with_every_column() -> None:
    from snowflake.connector.cursor import SnowflakeCursor, extract_values_clause

    from include.sql_render import render_sql, statements

    (insert,) = statements(render_sql("audit/insert_task_tries.sql"))
    # the connector sends executemany of an insert ... values as one multi-row statement
    assert SnowflakeCursor.INSERT_SQL_RE.match(insert) and extract_values_clause(insert)
    assert set(re.findall(r"%\((\w+)\)s", insert)) == set(vars(_row()))


def test_at_a_runs_end_the_scheduler_settles_its_tries_as_airflow_recorded_them(monkeypatch) -> None:
    plugin = _plugin()
    start = datetime(2026, 7, 7, 0, 5, tzinfo=UTC)

    def ti(task_id: str, try_number: int, state: str) -> SimpleNamespace:
        return SimpleNamespace(
            dag_id="retail_daily", task_id=task_id, run_id="r1", map_index=-1, try_number=try_number, max_tries=2,
            start_date=start, end_date=start + timedelta(seconds=3), state=state, hostname="w1", operator="SQL",
        )  # fmt: skip

    history = [ti("silver.orders", 1, "failed"), ti("silver.orders", 2, "failed"), ti("dq.keys", 1, "failed")]
    history[2].max_tries = 0  # no retry allowed: its failure was final before someone cleared it
    latest = [
        ti("silver.orders", 3, "success"),
        ti("dq.keys", 2, "success"),
        ti("never_ran", 0, None),
        ti("ingest_orders.wait_for_file", 1, "success"),
        ti("ingest_stores.wait_for_file", 1, "failed"),
        ti("train_churn_model", 1, "skipped"),
    ]
    latest[3].hostname = latest[4].hostname = ""
    # its second try, ended in the triggerer: the trigger left the first try's end date (before this try's start)
    latest[3].try_number, latest[3].end_date = 2, start - timedelta(seconds=20)
    latest[3].updated_at = start + timedelta(seconds=2)
    session = SimpleNamespace(scalars=lambda statement: SimpleNamespace(all=lambda: history))
    dag_run = SimpleNamespace(
        dag_id="retail_daily", run_id="r1", dag_run_note=None, logical_date=datetime(2026, 7, 6, tzinfo=UTC),
        run_after=start, conf={}, get_task_instances=lambda session: latest, start_date=start,
        end_date=start + timedelta(seconds=30), run_type="backfill",
    )  # fmt: skip
    monkeypatch.setattr(plugin, "_orm_session", lambda run: session)
    results = {("silver.orders", -1): {"rows_affected": [40, 2], "query_ids": ["q1", "q2"]}}
    monkeypatch.setattr(plugin, "_return_values", lambda session, run: results)
    order: list[str] = []
    seen: dict = {}

    def settle(*args: object) -> None:
        order.append("tries")
        seen["args"] = args

    monkeypatch.setattr(plugin.audit, "settle_task_tries", settle)
    monkeypatch.setattr(plugin.audit, "record_dag_run", lambda row: order.append(f"run {row.state}"))
    plugin.on_dag_run_success(dag_run, "")
    assert order == ["tries", "run success"], "the run's row after its tries': it says they are written"
    dag_id, run_id, tries = seen["args"]
    assert (dag_id, run_id) == ("retail_daily", "r1")
    assert [(r.task_id, r.try_number, r.state) for r in tries] == [
        ("silver.orders", 1, "up_for_retry"),  # the history says "failed" for a try that was retried
        ("silver.orders", 2, "up_for_retry"),
        ("dq.keys", 1, "failed"),
        ("silver.orders", 3, "success"),
        ("dq.keys", 2, "success"),
        ("ingest_orders.wait_for_file", 2, "success"),
        ("ingest_stores.wait_for_file", 1, "failed"),
        ("train_churn_model", 1, "skipped"),
    ]
    by_key = {(r.task_id, r.try_number): r for r in tries}
    assert (by_key["silver.orders", 3].rows_affected, by_key["silver.orders", 3].query_ids) == (42, "q1,q2")
    assert by_key["dq.keys", 2].rows_affected is None
    sensor = by_key["ingest_orders.wait_for_file", 2]
    assert sensor.duration_s == 2.0 and sensor.ended_at == datetime(2026, 7, 7, 0, 5, 2)
    assert {(r.business_date, r.reported_by) for r in tries} == {(date(2026, 7, 6), "scheduler")}
    assert {r.duration_s for r in tries if r is not sensor} == {3.0}


def test_a_forked_process_writes_with_its_own_thread_and_connection() -> None:
    audit._executor()  # the parent has a writer thread
    audit._connection = object()  # ... and a warehouse session
    try:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            fresh = audit._pool is None and audit._connection is None
            ran = fresh and audit._executor().submit(lambda: True).result(timeout=5)
            os.write(write, b"1" if ran else b"0")
            os._exit(0)
        os.close(write)
        answer = os.read(read, 1)
        os.waitpid(pid, 0)
        os.close(read)
        assert answer == b"1", "the child's first write would wait for a thread that does not exist"
        assert audit._pool is not None and audit._connection is not None  # the parent keeps its own
    finally:
        audit._connection = None
