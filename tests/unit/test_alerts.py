"""The on-call failure alert carries what is needed to act, escaped."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from airflow.sdk.exceptions import AirflowFailException

from include.alerts import build_failure_alert
from include.transform.layers import CheckResult, DataQualityError
from include.transform.window import Window


def _dq_error() -> AirflowFailException:
    """What a failed check task raises (include.transform.operators)."""
    failure = CheckResult(
        "orphan_order_items", "SILVER.ORDER_ITEMS", date(2026, 6, 5), 3, 0, False, "critical", "3 rows <bad>"
    )
    return AirflowFailException(
        str(DataQualityError("model_checks.orphans", Window.for_run(date(2026, 6, 5), 7), [failure]))
    )


def test_a_gate_failure_alert_names_the_checks_and_how_to_rerun() -> None:
    alert = build_failure_alert(
        dag_id="retail_daily",
        task_id="model_checks.orphans",
        run_id="backfill__2026-06-06T00:00:00+00:00",
        business_date=date(2026, 6, 5),
        try_number=1,
        max_tries=3,
        error=_dq_error(),
        log_url="http://airflow.example/log?x=1&y=2",
        logical_date=datetime(2026, 6, 5, tzinfo=UTC),
        task_ids=["model_checks.orphans", "model_checks.fact_keys", "gold.build"],
        api_base="http://airflow.example",
    )
    assert alert.subject == "[retail_daily] FAILED model_checks.orphans for 2026-06-05 (AirflowFailException)"
    html = alert.html
    assert "orphan_order_items on SILVER.ORDER_ITEMS for 2026-06-05: 3 rows &lt;bad&gt;" in html
    assert "1 of 3 (no retry left)" in html
    assert "http://airflow.example/log?x=1&amp;y=2" in html
    # the run's own logical date and the task id as plain text (the CLI matches -t as a substring)
    assert (
        "airflow tasks clear retail_daily -t model_checks.orphans -s 2026-06-05T00:00:00+00:00 "
        "-e 2026-06-05T00:00:00+00:00 --downstream -y" in html
    )
    assert "^model_checks" not in html, "an anchored pattern selects nothing in Airflow 3 (issue 36)"
    assert "http://airflow.example/api/v2/dags/retail_daily/clearTaskInstances" in html
    assert "&quot;dag_run_id&quot;: &quot;backfill__2026-06-06T00:00:00+00:00&quot;" in html
    assert "airflow backfill create --dag-id retail_daily --from-date 2026-06-05 --to-date 2026-06-05" in html
    assert "docs/runbooks/transforms.md#model_checks-a-critical-model-check-failed" in html
    assert "Runs &gt; backfill__2026-06-06T00:00:00+00:00 &gt; Task model_checks.orphans &gt; Clear" in html


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
    assert "<li><code>inbox/orders_20260605.csv</code></li>" in alert.html
    assert "<li><code>inbox/orders_20260605 (1).csv</code></li>" in alert.html
    assert "ingestion.md#ingest_feedwait_for_file" in alert.html
    assert alert.subject == "[retail_daily] FAILED ingest_orders.wait_for_file for 2026-06-05 (TimeoutError)"


def test_a_date_without_files_is_one_alert_listing_every_missing_feed() -> None:
    alert = build_failure_alert(
        dag_id="retail_daily",
        task_id="ingest_customers.wait_for_file",
        run_id="r",
        business_date=date(2026, 6, 5),
        try_number=1,
        max_tries=1,
        error=TimeoutError("Sensor has timed out"),
        log_url="u",
        missing_feeds=["customers", "orders", "payments"],
    )
    assert alert.subject == "[retail_daily] FAILED 3 files missing for 2026-06-05: customers, orders, payments"
    for feed in ("customers", "orders", "payments"):
        assert f"<li><code>inbox/{feed}_20260605.csv</code></li>" in alert.html
    assert "the only alert for them" in alert.text


def test_long_errors_are_cut_to_their_first_lines() -> None:
    error = RuntimeError("\n".join(f"line {i}" for i in range(40)))
    alert = build_failure_alert(
        dag_id="d",
        task_id="gold.build",
        run_id="r",
        business_date=None,
        try_number=3,
        max_tries=3,
        error=error,
        log_url="u",
    )
    assert "line 11" in alert.html and "line 12" not in alert.html and "for n/a" in alert.subject


def test_the_plain_text_version_carries_the_same_facts_unescaped() -> None:
    alert = build_failure_alert(
        dag_id="retail_daily",
        task_id="model_checks.orphans",
        run_id="r1",
        business_date=date(2026, 6, 5),
        try_number=3,
        max_tries=3,
        error=_dq_error(),
        log_url="http://airflow.example/log?x=1&y=2",
    )
    assert "orphan_order_items on SILVER.ORDER_ITEMS for 2026-06-05: 3 rows <bad>" in alert.text
    assert "http://airflow.example/log?x=1&y=2" in alert.text and "<p>" not in alert.text
    assert (
        "--reprocess-behavior failed" in alert.text
        and "transforms.md#model_checks-a-critical-model-check-failed" in alert.text
    )


def test_channels_are_chosen_by_configuration() -> None:
    from airflow.providers.amazon.aws.notifications.sns import SnsNotifier
    from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    from include import alerts

    alert = alerts.Alert(subject="[retail_daily] FAILED " + "x" * 200, html="<p>a &amp; b</p>", text="a & b")
    assert [type(n) for n in alerts.channel_notifiers(alert)] == [SmtpNotifier]  # the default
    mail, sns, slack = alerts.channel_notifiers(alert, ("email", "sns", "slack"))
    assert mail.html_content == alert.html and mail.subject == alert.subject
    assert isinstance(sns, SnsNotifier) and len(sns.subject) == 100 and sns.message.endswith("a & b")
    assert isinstance(slack, SlackWebhookNotifier) and slack.text.endswith("\na & b")


@pytest.fixture(autouse=True)
def alert_log(monkeypatch) -> list:
    """AUDIT.ALERT_LOG rows the alerts would write, collected instead of sent to a warehouse."""
    from include import audit

    rows: list = []
    monkeypatch.setattr(audit, "record_alert", rows.append)
    return rows


def test_one_broken_channel_does_not_silence_the_others(monkeypatch) -> None:
    from include import alerts
    from include.alerts import delivery

    sent = []

    class Working:
        def notify(self, context):
            sent.append("ok")

    class Broken:
        def notify(self, context):
            raise ConnectionError("slack down")

    monkeypatch.setattr(delivery, "channel_notifiers", lambda alert: [Broken(), Working()])
    monkeypatch.setattr(delivery, "ALERT_RETRY_DELAYS_SECONDS", (0.0,))
    try:
        alerts.send_alert(alerts.Alert("s", "h", "t"), {})
    except ConnectionError:
        pass
    else:
        raise AssertionError("a channel failure must still fail the callback (it is logged by Airflow)")
    assert sent == ["ok"]


def test_an_alert_is_retried_until_the_mail_server_answers(monkeypatch, caplog) -> None:
    """A real SMTP server, down at the first try and up by the retry: the mail arrives once."""
    import json
    import socket

    from aiosmtpd.controller import Controller

    from include import alerts
    from include.alerts import delivery

    received = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            received.append(envelope.content.decode())
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    extra = {"disable_tls": True, "disable_ssl": True, "from_email": "rct@localhost"}
    conn = {"conn_type": "smtp", "host": "127.0.0.1", "port": port, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(conn))
    monkeypatch.setattr(delivery, "ALERT_CHANNELS", ("email",))
    monkeypatch.setattr(delivery, "ALERT_RETRY_DELAYS_SECONDS", (0.1, 0.1))
    server = Controller(Inbox(), hostname="127.0.0.1", port=port)
    pauses = []

    def pause_then_start(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 1:
            server.start()  # the relay comes back during the first pause

    monkeypatch.setattr(delivery, "_pause", pause_then_start)
    try:
        alerts.send_alert(alerts.Alert("[retail_daily] FAILED 2026-03-02 x", "<p>h</p>", "t"), {})
    finally:
        server.stop()
    assert pauses == [0.1] and len(received) == 1 and "FAILED 2026-03-02" in received[0]
    assert "through SmtpNotifier failed (try 1" in caplog.text


def test_every_channel_outcome_is_in_the_alert_log_a_lost_alert_with_its_error(monkeypatch, alert_log) -> None:
    from types import SimpleNamespace

    from include import alerts
    from include.alerts import delivery

    class Working:
        def notify(self, context):
            pass

    class Down:
        def notify(self, context):
            raise ConnectionRefusedError("relay down")

    monkeypatch.setattr(delivery, "channel_notifiers", lambda alert: [Down(), Working()])
    monkeypatch.setattr(delivery, "ALERT_RETRY_DELAYS_SECONDS", (0.0, 0.0))
    ti = SimpleNamespace(dag_id="retail_daily", task_id="ingest_orders.validate_file", run_id="manual__1")
    with pytest.raises(ConnectionRefusedError):
        alerts.send_alert(alerts.Alert("[retail_daily] FAILED 2026-03-02", "<p>h</p>", "t"), {"ti": ti})
    lost, sent = alert_log
    assert (lost.channel, lost.status, lost.tries, lost.error_message) == (
        "Down", "lost", 3, "ConnectionRefusedError: relay down"
    )  # fmt: skip
    assert (sent.channel, sent.status, sent.tries, sent.error_message) == ("Working", "sent", 1, None)
    assert {(r.dag_id, r.task_id, r.run_id, r.subject) for r in alert_log} == {
        ("retail_daily", "ingest_orders.validate_file", "manual__1", "[retail_daily] FAILED 2026-03-02")
    }


def test_an_alert_still_not_sent_after_the_retries_is_logged_whole_as_lost(monkeypatch, caplog) -> None:
    from include import alerts
    from include.alerts import delivery

    class Down:
        def notify(self, context):
            raise ConnectionRefusedError("relay down")

    monkeypatch.setattr(delivery, "channel_notifiers", lambda alert: [Down()])
    monkeypatch.setattr(delivery, "ALERT_RETRY_DELAYS_SECONDS", (0.0, 0.0))
    with pytest.raises(ConnectionRefusedError):
        alerts.send_alert(alerts.Alert("[retail_daily] FAILED d", "<p>h</p>", "the error and the runbook"), {})
    assert "alert LOST after 3 tries through Down: [retail_daily] FAILED d" in caplog.text
    assert "the error and the runbook" in caplog.text


def test_recovery_and_deadline_messages() -> None:
    from include.alerts import build_deadline_alert, build_recovery_alert

    recovery = build_recovery_alert(
        dag_id="retail_daily",
        business_date=date(2026, 6, 5),
        run_id="backfill__2026-06-06T00:00:00+00:00",
        failures=[("ingest_payments.validate_file", 1, "AirflowFailException")],
    )
    assert recovery.subject == "[retail_daily] RECOVERED 2026-06-05"
    assert "ingest_payments.validate_file try 1 (AirflowFailException)" in recovery.text
    late = build_deadline_alert(
        dag_id="retail_daily", run_id="scheduled__x", business_date=date(2026, 6, 5), state="running", deadline="d"
    )
    assert late.subject.startswith("[retail_daily] LATE 2026-06-05") and "running" in late.html


def test_a_model_monitoring_alert_lists_the_crossed_thresholds_and_where_to_look() -> None:
    from types import SimpleNamespace

    from include.alerts import model_monitoring_alert

    summary = {
        "business_date": "2026-06-05",
        "model_id": "churn_20260531_hist_gbt_calibrated_0123456789",
        "alerts": ["psi of recency_days = 0.4100 (threshold 0.2500)"],
    }
    ti = SimpleNamespace(dag_id="retail_daily", task_id="monitor_churn_model", log_url="http://log")
    alert = model_monitoring_alert(summary, {"ti": ti, "run_id": "scheduled__2026-06-06"})
    assert (
        alert.subject
        == "[retail_daily] churn model churn_20260531_hist_gbt_calibrated_0123456789: 1 monitoring alert(s)"
    )
    assert "psi of recency_days = 0.4100 (threshold 0.2500)" in alert.text
    assert "MODEL_MONITORING where business_date = '2026-06-05'" in alert.text
    assert "churn-model.md#monitor_churn_model-alerted" in alert.text


def test_importing_the_alerts_does_no_work_and_a_bad_channel_fails_when_an_alert_is_sent(monkeypatch) -> None:
    """A misconfigured channel list used to fail every DAG's import; now the alert that cannot be
    sent fails, naming the setting (and the preflight reports it before the first run)."""
    import importlib

    from include import alerts
    from include.alerts import delivery

    monkeypatch.setattr(delivery, "ALERT_CHANNELS", ("pigeon",))
    importlib.reload(alerts)  # nothing checked at import
    with pytest.raises(ValueError, match="unknown channel"):
        alerts.send_alert(alerts.Alert("s", "<p>h</p>", "t"), {})
    monkeypatch.setattr(delivery, "ALERT_CHANNELS", ())
    with pytest.raises(ValueError, match="never hear"):
        alerts.channel_notifiers(alerts.Alert("s", "h", "t"))
