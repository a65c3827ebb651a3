"""The local stand-in fails where Snowflake would (local/fakesnow_snowflake.py), in-process.

Each test shows one Snowflake behaviour the platform relies on, and what DuckDB would have done
instead; docs/architecture.md ("Local stand-ins") lists them with the documentation they follow.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import snowflake.connector
from snowflake.connector.errors import ProgrammingError

from include.config import WAREHOUSE
from include.warehouse import session_parameters
from local import fakesnow_snowflake

T = f"{WAREHOUSE.database}.{WAREHOUSE.audit}.T_SEMANTICS"


@pytest.fixture(scope="module")
def warehouse() -> Iterator[Any]:
    from local.history import in_process_warehouse

    with in_process_warehouse() as hook:
        yield hook


def _connect(**params: Any) -> Any:
    return snowflake.connector.connect(database=WAREHOUSE.database, schema=WAREHOUSE.audit, **params)


def _platform(**session: Any) -> Any:
    """A connection as every connection of the platform opens one (include/warehouse.py)."""
    return _connect(session_parameters=session_parameters(**session))


def _one(cursor: Any, sql: str) -> Any:
    cursor.execute(sql)
    return cursor.fetchone()[0]


@pytest.fixture
def table(warehouse: Any) -> Iterator[Any]:
    cur = _platform().cursor()
    cur.execute(f"create or replace table {T} (k int, v int)")
    cur.execute(f"insert into {T} values (1, 10), (2, 20)")
    yield cur
    cur.execute(f"drop table if exists {T}")


def test_a_session_without_a_time_zone_runs_on_los_angeles_time_and_the_platforms_on_utc(warehouse) -> None:
    """Snowflake's default TIMEZONE is America/Los_Angeles: current_timestamp() cast to
    timestamp_ntz is then 7 or 8 hours behind the UTC the run-log and the lock's lease use."""
    now = datetime.now(UTC).replace(tzinfo=None)
    default = _one(_connect().cursor(), "select current_timestamp()::timestamp_ntz")
    platform = _one(_platform().cursor(), "select current_timestamp()::timestamp_ntz")
    assert 6.9 < (now - default).total_seconds() / 3600 < 8.1
    assert abs((platform - now).total_seconds()) < 60
    cur = _connect().cursor()
    cur.execute("alter session set timezone = 'UTC'")
    assert abs((_one(cur, "select current_timestamp()::timestamp_ntz") - now).total_seconds()) < 60
    cur.execute("show parameters like 'TIMEZONE' in session")
    assert cur.fetchone()[1] == "UTC"


def test_ddl_inside_a_transaction_commits_it_first(table) -> None:
    """https://docs.snowflake.com/en/sql-reference/transactions#ddl: DuckDB would roll the insert
    back with the transaction; Snowflake has committed it when the CREATE ran."""
    table.execute("begin")
    table.execute(f"insert into {T} values (3, 30)")
    table.execute(f"create or replace table {T}_OTHER (x int)")
    table.execute("rollback")
    assert _one(table, f"select count(*) from {T}") == 3
    table.execute(f"drop table {T}_OTHER")


def test_a_begin_inside_a_transaction_is_ignored(table) -> None:
    table.execute("begin")
    table.execute(f"insert into {T} values (3, 30)")
    table.execute("begin")  # DuckDB: "cannot start a transaction within a transaction"
    table.execute("rollback")
    assert _one(table, f"select count(*) from {T}") == 2


def test_a_merge_joining_a_target_row_twice_fails_as_on_snowflake(table) -> None:
    duplicate = f"""merge into {T} as t using (select 1 as k, 11 as v union all select 1, 12) as s on t.k = s.k
        when matched then update set v = s.v"""
    with pytest.raises(ProgrammingError, match="Duplicate row detected") as raised:
        table.execute(duplicate)
    assert raised.value.errno == 100090
    assert _one(table, f"select v from {T} where k = 1") == 10, "nothing changed"
    # inserting the same new key twice is deterministic (two rows), and one source row per target is fine
    table.execute(
        f"merge into {T} as t using (select 5 as k, 50 as v union all select 5, 50) as s on t.k = s.k "
        "when not matched then insert (k, v) values (s.k, s.v)"
    )
    table.execute(
        f"merge into {T} as t using (select 1 as k, 11 as v) as s on t.k = s.k when matched then update set v = s.v"
    )
    assert _one(table, f"select v from {T} where k = 1") == 11


def test_a_merge_whose_source_repeats_a_key_but_joins_each_target_row_once_runs(table) -> None:
    """The stand-in looks at the source's keys first; two source rows with one key do not fail the
    MERGE unless both join the same target row (here the ON clause keeps one of them)."""
    table.execute(
        f"merge into {T} as t using (select 1 as k, 11 as v, 'a' as tag union all select 1, 12, 'b') as s "
        "on t.k = s.k and s.tag = 'b' when matched then update set v = s.v"
    )
    assert _one(table, f"select v from {T} where k = 1") == 12


def test_a_second_writer_waits_for_the_lock_and_gives_up_after_its_lock_timeout(table) -> None:
    holder, waiter = _platform(), _platform()
    h, w = holder.cursor(), waiter.cursor()
    h.execute("begin")
    h.execute(f"update {T} set v = v + 1 where k = 1")
    w.execute("alter session set lock_timeout = 1")
    started = time.monotonic()
    with pytest.raises(ProgrammingError, match="lock timeout") as raised:
        w.execute(f"delete from {T} where k = 2")  # another row: Snowflake locks the table
    assert raised.value.errno == 625 and 0.9 < time.monotonic() - started < 5
    # released while it waits: the writer goes on (DuckDB would have failed it at once)
    threading.Timer(0.5, lambda: h.execute("commit")).start()
    w.execute("alter session set lock_timeout = 30")
    w.execute(f"delete from {T} where k = 2")
    assert _one(w, f"select count(*) from {T}") == 1
    holder.close()
    waiter.close()


def test_a_deadlock_fails_the_statement_that_closes_the_cycle(table) -> None:
    table.execute(f"create or replace table {T}_B (k int)")
    a, b = _platform().cursor(), _platform().cursor()
    a.execute("begin")
    a.execute(f"delete from {T} where k = 1")
    b.execute("begin")
    b.execute(f"delete from {T}_B")
    errors: list[Exception] = []

    def a_waits_for_b() -> None:
        try:
            a.execute(f"delete from {T}_B")
        except ProgrammingError as exc:
            errors.append(exc)

    waiting = threading.Thread(target=a_waits_for_b)
    waiting.start()
    time.sleep(0.5)
    with pytest.raises(ProgrammingError, match="Deadlock"):
        b.execute(f"delete from {T} where k = 2")
    b.execute("rollback")
    waiting.join(10)
    assert not errors, "the first waiter goes on once the victim's transaction ends"
    a.execute("rollback")
    table.execute(f"drop table {T}_B")


def test_a_closed_session_rolls_back_and_releases_its_locks(table) -> None:
    gone = _platform()
    cur = gone.cursor()
    cur.execute("begin")
    cur.execute(f"update {T} set v = 0")
    gone.close()
    other = _platform(lock_timeout=2).cursor()
    other.execute(f"update {T} set v = v + 1 where k = 1")
    assert _one(other, f"select v from {T} where k = 1") == 11


def test_integers_divide_to_six_decimals(warehouse) -> None:
    """https://docs.snowflake.com/en/sql-reference/operators-arithmetic: DuckDB divides in floating
    point. Where it matters: 5 x 2,199,999 / 2,200,000 is 4.999997727..., which Snowflake rounds
    to 4.999998 - and to 5.000000 once the divisor passes 10 million."""
    cur = _platform().cursor()
    assert float(_one(cur, "select 1 / 3")) == pytest.approx(0.333333, abs=1e-9)
    assert int(_one(cur, "select floor(5 * (20000000 - 1) / 20000000)")) == 5  # the old RFM arithmetic
    assert float(_one(cur, "select 1.0 / 3")) == pytest.approx(1 / 3)  # not both integers: as before


def test_a_statement_snowflake_would_not_compile_fails(warehouse) -> None:
    cur = _platform().cursor()
    with pytest.raises(ProgrammingError, match="not Snowflake SQL: EPOCH_MS"):
        cur.execute("select epoch_ms(0)")


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("a,b\n", [["a", "b"]]),
        ("a\\tb,c\n", [["a\tb", "c"]]),  # an escape sequence decodes
        ("a\\,b,c\n", [["a,b", "c"]]),  # an escaped delimiter is data
        ("x\\,y\n", [["x,y"]]),  # a value ending in \ swallows the delimiter: one column fewer
        ('"a\\tb",c\n', [["a\\tb", "c"]]),  # enclosed fields keep backslashes (ESCAPE is NONE)
        ('"a ""q"" b",,\n', [['a "q" b', None, None]]),
        ("a\\\\,b\n", [["a\\", "b"]]),
    ],
)
def test_csv_fields_read_as_snowflake_reads_them_with_its_default_escape(text: str, fields: list) -> None:
    assert fakesnow_snowflake.split_escaped(text, ",", '"', "\\") == fields


def test_the_freshness_views_answer_the_same_in_every_readers_time_zone(warehouse) -> None:
    """A BI tool reads V_FRESHNESS in its own session time zone (Snowflake's default: Los Angeles).
    With current_date() a table one day old was 'fresh' or 'stale' depending on the reader and the
    hour; with UTC's today (sysdate()) every reader sees the same. UTC+14 and UTC-11 between them
    differ from UTC's date at any hour of the day."""
    from datetime import timedelta

    writer = _platform().cursor()
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    gold = WAREHOUSE.qualified(WAREHOUSE.gold, "DAILY_REVENUE")
    writer.execute(f"delete from {gold}")
    writer.execute(
        f"insert into {gold} (revenue_date, channel, category, state, orders, units, gross_amount, discount_amount, "
        f"net_revenue) values ('{yesterday}', 'web', 'c', 's', 1, 1, 1, 0, 1)"
    )
    answers = set()
    for zone in ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/Los_Angeles"):
        reader = _connect(session_parameters={"TIMEZONE": zone}).cursor()
        reader.execute(
            f"select age_days, status from {WAREHOUSE.qualified(WAREHOUSE.gold, 'V_FRESHNESS')} "
            "where table_name = 'DAILY_REVENUE'"
        )
        answers.add(tuple(reader.fetchone()))
    assert answers == {(1, "fresh")}
    writer.execute(f"delete from {gold}")
