"""The stand-in's statement trace (``FAKESNOW_TRACE``), which ``make bench`` keeps per run: each
statement with the task that sent it (its session's QUERY_TAG), the rows it changed or returned,
and what it scanned per table, so a statement that reads more of a table than it needs shows."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import snowflake.connector

from benchmarks.harness import statement_trace
from include.warehouse import query_tag, session_parameters

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def traced_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("traced")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    trace = folder / "statements.tsv"
    env = {**os.environ, "FAKESNOW_TRACE": str(trace), "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        [sys.executable, str(REPO / "local" / "fakesnow_server.py"), "--port", str(port), "--db-path", folder / "db"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert server.poll() is None, server.stderr.read().decode()[-2000:]
        time.sleep(0.2)
    yield port, trace
    server.terminate()
    server.wait(10)


def _connect(port: int, **session: str) -> snowflake.connector.SnowflakeConnection:
    return snowflake.connector.connect(
        user="tester", password="x",  # noqa: S106 (the stand-in takes any)
        account="local", host="127.0.0.1", port=port, protocol="http",
        session_parameters=session_parameters(**session),
    )  # fmt: skip


def test_each_statement_is_traced_with_its_task_rows_and_the_row_groups_it_read(traced_server, monkeypatch) -> None:
    port, trace = traced_server
    task = {"DAG_ID": "retail_daily", "TASK_ID": "model.fct_orders", "DAG_RUN_ID": "r1", "TRY_NUMBER": "2"}
    for key, value in task.items():
        monkeypatch.setenv(f"AIRFLOW_CTX_{key}", value)
    tag = query_tag()
    assert json.loads(tag) == {"dag_id": "retail_daily", "task_id": "model.fct_orders", "run_id": "r1", "try": "2"}
    assert session_parameters()["QUERY_TAG"] == tag, "a task's sessions carry its tag"

    conn = _connect(port)
    cur = conn.cursor()
    cur.execute("create database TRACED")
    cur.execute("create schema TRACED.S")
    cur.execute("create table TRACED.S.T (i int, d date)")
    # about 4 DuckDB row groups, inserted in the order of i (as days arrive in order)
    cur.execute(
        "insert into TRACED.S.T select seq4(), dateadd(day, seq4() / 10000, '2026-01-01'::date) "
        "from table(generator(rowcount => 480000))"
    )
    cur.execute("select count(*) from TRACED.S.T where i >= 470000")
    assert cur.fetchone()[0] == 10000
    cur.execute("delete from TRACED.S.T where i >= 475000")
    assert cur.rowcount == 5000
    conn.close()
    with _connect(port, query_tag="") as untagged:
        untagged.cursor().execute("select count(*) from TRACED.S.T")

    monkeypatch.delenv("FAKESNOW_TRACE", raising=False)
    found = statement_trace({"dag_run_id": "r1"})  # reads FAKESNOW_TRACE
    assert "missing" in found, "without FAKESNOW_TRACE the harness says so"
    monkeypatch.setenv("FAKESNOW_TRACE", str(trace))
    found = statement_trace({"dag_run_id": "r1"})
    assert set(found["per_task"]) == {"model.fct_orders"}, "only the run's tagged sessions count"
    assert found["per_task"]["model.fct_orders"]["statements"] == 6
    by_statement = {s["statement"].split(" where")[0]: s for s in found["slowest"]}
    pruned = by_statement["select count(*) from TRACED.S.T"]
    scan = pruned["scanned"]["S.T"]
    assert scan["row_groups"] >= 4 and scan["row_groups_read"] == 1, scan
    assert scan["rows"] < 480000 / 2, "the range predicate skipped the other row groups by their zone maps"
    assert by_statement["delete from TRACED.S.T"]["rows"] == 5000
    insert = next(s for s in found["slowest"] if s["statement"].startswith("insert"))
    assert insert["rows"] == 480000


def test_a_statement_followed_by_a_comment_runs_as_on_snowflake(traced_server) -> None:
    """`insert ...;  -- why` (a SQL file's statement with its comment on the same line) is one
    statement on Snowflake; fakesnow ran the comment as a second one and failed the INSERT. A `;`
    inside a string literal is data, not the statement's end."""
    port, _ = traced_server
    with _connect(port) as conn:
        cur = conn.cursor()
        cur.execute("create database if not exists COMMENTED")
        cur.execute("create schema if not exists COMMENTED.PUBLIC")
        cur.execute("create table COMMENTED.PUBLIC.T (id int, note varchar)")
        cur.execute("insert into COMMENTED.PUBLIC.T (id, note) select 1, 'x' order by 1;  -- the clustering order")
        assert cur.rowcount == 1
        hostile = "a'; drop table T; -- $(touch pwned)"
        cur.execute(f"insert into COMMENTED.PUBLIC.T (id, note) select 2, '{hostile.replace(chr(39), chr(39) * 2)}'")
        cur.execute("select note from COMMENTED.PUBLIC.T order by id")
        assert [r[0] for r in cur.fetchall()] == ["x", hostile]
