"""The layer SQL renders for any window, and the window arithmetic is right at month ends."""

from __future__ import annotations

from datetime import date

import pytest

from include.sql_render import render_sql, split_statements
from include.transform.runner import LAYER_OBJECTS
from include.transform.window import Window


def test_window_covers_the_business_date_and_the_lookback() -> None:
    w = Window.for_run(date(2026, 3, 2), 7)
    assert (w.start, w.end, len(w.dates)) == (date(2026, 2, 23), date(2026, 3, 2), 8)
    assert (w.start_month, w.after_end, w.after_end_month) == (date(2026, 2, 1), date(2026, 3, 3), date(2026, 4, 1))
    assert Window.for_run(date(2026, 12, 31), 0).after_end_month == date(2027, 1, 1)
    with pytest.raises(ValueError, match="lookback_days"):
        Window.for_run(date(2026, 3, 2), -1)


@pytest.mark.parametrize("path", [f"{layer}/{obj}.sql" for layer, objs in LAYER_OBJECTS.items() for obj in objs])
def test_every_object_renders_to_statements_on_its_own_table(path: str) -> None:
    sql = render_sql(path, window=Window.for_run(date(2026, 3, 2), 7))
    statements = split_statements(sql)
    assert 1 <= len(statements) <= 2
    # a delete + insert pair must touch one table (it runs as one transaction)
    targets = {s.split()[2] for s in statements if s.split()[0] in ("delete", "insert")}
    assert len(targets) <= 1, targets


def test_silver_merge_only_lets_a_newer_or_equal_record_win() -> None:
    sql = render_sql("silver/orders.sql", window=Window.for_run(date(2026, 3, 2), 7))
    assert (
        "when matched and (s.status_updated_at > t.status_updated_at or (s.status_updated_at = t.status_updated_at"
        " and (s._batch_date > t._batch_date or (s._batch_date = t._batch_date and s._source_line >= t._source_line))))"
    ) in sql
    assert "partition by order_id\n        order by status_updated_at desc, _batch_date desc, _source_line desc" in sql


@pytest.mark.parametrize("layer", ["silver", "model", "gold"])
def test_checks_render_as_one_query(layer: str) -> None:
    sql = render_sql(f"dq/{layer}.sql", window=Window.for_run(date(2026, 3, 2), 7))
    assert len(split_statements(sql)) == 1
