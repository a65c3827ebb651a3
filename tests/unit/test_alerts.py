"""The on-call failure alert carries what is needed to act, escaped."""

from __future__ import annotations

from datetime import date

from include.alerts import build_failure_alert
from include.transform.runner import CheckResult, DataQualityError
from include.transform.window import Window


def _dq_error() -> DataQualityError:
    failure = CheckResult(
        "orphan_order_items", "SILVER.ORDER_ITEMS", date(2026, 6, 5), 3, 0, False, "critical", "3 rows <bad>"
    )
    return DataQualityError("model", Window.for_run(date(2026, 6, 5), 7), [failure])


def test_a_gate_failure_alert_names_the_checks_and_how_to_rerun() -> None:
    alert = build_failure_alert(
        dag_id="retail_daily",
        task_id="transform_window",
        run_id="backfill__2026-06-06T00:00:00+00:00",
        business_date=date(2026, 6, 5),
        try_number=1,
        max_tries=3,
        error=_dq_error(),
        log_url="http://airflow.example/log?x=1&y=2",
    )
    assert alert.subject == "[retail_daily] FAILED transform_window for 2026-06-05 (DataQualityError)"
    html = alert.html
    assert "orphan_order_items on SILVER.ORDER_ITEMS for 2026-06-05: 3 rows &lt;bad&gt;" in html
    assert "1 of 3 (no retry left)" in html
    assert "http://airflow.example/log?x=1&amp;y=2" in html
    assert "airflow tasks clear retail_daily -t &#x27;^transform_window$&#x27; -s 2026-06-05 -e 2026-06-05" in html
    assert "airflow backfill create --dag-id retail_daily --from-date 2026-06-05 --to-date 2026-06-05" in html
    assert "docs/runbooks/transforms.md#transform_window-failed" in html
    assert "Runs &gt; backfill__2026-06-06T00:00:00+00:00 &gt; Task transform_window &gt; Clear" in html


def test_a_sensor_timeout_alert_says_which_file_is_missing_and_what_arrived() -> None:
    alert = build_failure_alert(
        dag_id="retail_daily",
        task_id="ingest_orders.wait_for_file",
        run_id="scheduled__2026-06-06T00:00:00+00:00",
        business_date=date(2026, 6, 5),
        try_number=1,
        max_tries=1,
        error=TimeoutError("Sensor has timed out"),
        log_url="http://airflow.example/log",
        found_instead=["inbox/orders_20260605 (1).csv"],
    )
    assert "no <code>inbox/orders_20260605.csv</code> arrived for feed <b>orders</b>" in alert.html
    assert "<li><code>inbox/orders_20260605 (1).csv</code></li>" in alert.html
    assert "ingestion.md#ingest_feedwait_for_file" in alert.html


def test_long_errors_are_cut_to_their_first_lines() -> None:
    error = RuntimeError("\n".join(f"line {i}" for i in range(40)))
    alert = build_failure_alert(
        dag_id="d",
        task_id="transform_window",
        run_id="r",
        business_date=None,
        try_number=3,
        max_tries=3,
        error=error,
        log_url="u",
    )
    assert "line 11" in alert.html and "line 12" not in alert.html and "for n/a" in alert.subject
