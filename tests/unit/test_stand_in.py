"""The local Snowflake stand-in's shortcuts (local/fakesnow_statement_cost.py) answer what fakesnow would."""

from __future__ import annotations

import fakesnow
import pytest
import snowflake.connector
import sqlglot
from fakesnow.rowtype import describe_as_rowtype

from local import fakesnow_statement_cost as cost

DESCRIBED_FROM_THE_RESULT = [
    "insert into D.S.T (id, v, d, amt) values (1, 'a', '2026-01-01', 1.5), (2, 'b', '2026-01-02', 2.5)",
    "insert into D.S.T (id, v, d, amt) select id + 10, v, d, amt from D.S.T",
    "update D.S.T set v = 'z' where id = 1",
    "delete from D.S.T where id = 2",
    "merge into D.S.T t using (select 1 as id, 'q' as v union all select 5, 'n') s on t.id = s.id "
    "when matched then update set v = s.v when not matched then insert (id, v) values (s.id, s.v)",
    "begin",
    "commit",
    "create or replace table D.S.U (x int)",
]
DESCRIBED_AS_BEFORE = [
    "select id, v, d, amt from D.S.T",
    "select parse_json('{\"a\": 1}') as j",  # VARIANT: Arrow calls it a string, DESCRIBE says JSON
    "select count(*) as status from D.S.T",  # a "status" column that is not a status
    'select 1 as "number of rows inserted", \'x\' as "number of rows updated"',
]


@pytest.fixture(scope="module")
def cursor():
    with fakesnow.patch():
        conn = snowflake.connector.connect(database="D", schema="S")
        cur = conn.cursor()
        cur.execute("create database if not exists D")
        cur.execute("create schema if not exists D.S")
        cur.execute("create table D.S.T (id number, v varchar, d date, amt number(14, 2))")
        yield cur
        conn.close()


@pytest.mark.parametrize("statement", DESCRIBED_FROM_THE_RESULT)
def test_row_counts_and_statuses_are_described_as_duckdb_describes_them(cursor, statement) -> None:
    cursor.execute(statement)
    ours = cost.describe_from_result(cursor._arrow_table)
    assert ours is not None, "the shortcut no longer applies to this statement"
    assert describe_as_rowtype(ours) == describe_as_rowtype(cursor._describe_last_sql())


@pytest.mark.parametrize("statement", DESCRIBED_AS_BEFORE)
def test_any_other_result_is_described_by_duckdb(cursor, statement) -> None:
    cursor.execute(statement)
    assert cost.describe_from_result(cursor._arrow_table) is None


def test_the_cursor_runs_what_the_server_parsed_once() -> None:
    text = "select 1 as x"
    parsed = cost._server_parse(text)
    assert cost._cursor_parse(text) is parsed  # handed over, not parsed again
    again = cost._cursor_parse(text)  # handed over once only
    assert again is not parsed and again.sql() == parsed.sql()
    for n in range(cost._KEEP + 10):  # texts the cursor never ran do not pile up
        cost._server_parse(f"select {n}")
    assert len(cost._parsed) == cost._KEEP


MERGES = [
    # every clause Snowflake's MERGE has: conditional update, delete, conditional insert
    "merge into D.S.M t using (select id, v from D.S.SRC) s on t.id = s.id "
    "when matched and s.v = 'gone' then delete "
    "when matched and s.v > t.v then update set v = s.v "
    "when not matched and s.v <> 'skip' then insert (id, v) values (s.id, s.v)",
    "merge into D.S.M t using D.S.SRC s on t.id = s.id when not matched then insert (id, v) values (s.id, s.v)",
    "merge into D.S.M t using (select id, max(v) as v from D.S.SRC group by id) s on t.id = s.id "
    "when matched then update set v = s.v",
]


def _merged(cursor, statement: str, target: str, source: str) -> tuple[list, list]:
    """The counts ``statement`` answers and the target after it, from fresh D.S.M and D.S.SRC."""
    for table, rows in (("D.S.M", target), ("D.S.SRC", source)):
        cursor.execute(f"create or replace table {table} (id number, v varchar)")
        cursor.execute(f"insert into {table} values {rows}")
    cursor.execute(statement)
    changed = cursor.fetchall()
    cursor.execute("select id, v from D.S.M order by id")
    return changed, cursor.fetchall()


@pytest.mark.parametrize("statement", MERGES)
def test_a_merge_read_through_its_source_changes_what_fakesnows_own_changes(cursor, statement, monkeypatch) -> None:
    """fakesnow's MERGE joins target and source FULL OUTER; the stand-in's, RIGHT (the target rows
    no source row matches are left as they are either way): the same target after each."""
    results = {}
    for name, candidates in (("fakesnow", cost._merge_candidates), ("ours", cost.merge_candidates_through_the_source)):
        monkeypatch.setattr(cost.fakesnow_merge, "_create_merge_candidates", candidates)
        results[name] = _merged(
            cursor,
            statement,
            target="(1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e'), (6, null)",
            source="(2, 'z'), (3, 'gone'), (4, 'a'), (7, 'new'), (8, 'skip'), (6, 'f')",
        )
    assert results["ours"] == results["fakesnow"]
    ours = cost.merge_candidates_through_the_source(sqlglot.parse_one(statement, read="snowflake"))
    assert "RIGHT OUTER JOIN" in ours.sql().upper(), "fakesnow changed how it builds a MERGE's candidates"


@pytest.mark.parametrize("statement", MERGES)
def test_a_merge_without_its_empty_clauses_changes_what_fakesnows_own_changes(cursor, statement, monkeypatch) -> None:
    """The stand-in leaves out a clause's UPDATE or DELETE when no candidate row takes that
    clause: the same counts and the same target, here with a source that takes no update."""
    results = {}
    for name, mutations, execute in (
        ("fakesnow", cost._mutations, cost._execute),
        ("ours", cost.mutations_marked_with_their_clause, cost._execute_unless_no_candidate),
    ):
        monkeypatch.setattr(cost.fakesnow_merge, "_mutations", mutations)
        monkeypatch.setattr(fakesnow.cursor.FakeSnowflakeCursor, "_execute", execute)
        results[name] = _merged(
            cursor, statement, target="(1, 'a'), (2, 'b'), (3, 'c')", source="(2, 'a'), (3, 'gone'), (7, 'new')"
        )
    assert results["ours"] == results["fakesnow"]
    marked = cost.mutations_marked_with_their_clause(sqlglot.parse_one(MERGES[0], read="snowflake"))
    assert [m.args.get(cost._CLAUSE) for m in marked] == [0, 1, None], "fakesnow changed how it splits a MERGE"
