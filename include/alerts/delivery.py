"""How an alert reaches on-call: the provider notifier of each channel in RETAIL_ALERT_CHANNELS
(SMTP by default, SNS, Slack), each tried again after the pauses of
RETAIL_ALERT_RETRY_DELAYS_SECONDS (include/retrying.py, as the run-log writer retries), and every
channel's outcome recorded (include/alerts/log.py). The channels are checked when an alert is sent,
not at import."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from airflow.sdk import BaseNotifier

from include.alerts.log import record
from include.alerts.messages import Alert
from include.config import (
    ALERT_CHANNELS,
    ALERT_EMAIL,
    ALERT_RETRY_DELAYS_SECONDS,
    ALERT_SNS_TOPIC_ARN,
    AWS_CONN_ID,
    SLACK_WEBHOOK_CONN_ID,
    SMTP_CONN_ID,
)
from include.retrying import GaveUp, with_retries

log = logging.getLogger(__name__)
CHANNELS = ("email", "sns", "slack")
SNS_SUBJECT_CHARS = 100  # SNS rejects longer subjects


def configured_channels(channels: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The channels to alert through (default: RETAIL_ALERT_CHANNELS), refused when on-call could
    never hear of a failure."""
    configured, channels = channels is None, ALERT_CHANNELS if channels is None else channels
    if unknown := set(channels) - set(CHANNELS):
        raise ValueError(f"RETAIL_ALERT_CHANNELS has unknown channel(s) {sorted(unknown)}; use {', '.join(CHANNELS)}")
    if not channels:
        raise ValueError("RETAIL_ALERT_CHANNELS is empty: on-call would never hear about a failure")
    if configured and "sns" in channels and not ALERT_SNS_TOPIC_ARN:
        raise ValueError("RETAIL_ALERT_CHANNELS includes sns but RETAIL_ALERT_SNS_TOPIC_ARN is not set")
    return channels


def channel_notifiers(alert: Alert, channels: tuple[str, ...] | None = None) -> list[BaseNotifier]:
    """The provider notifier of every configured channel, carrying this alert."""
    notifiers: list[BaseNotifier] = []
    for channel in configured_channels(channels):
        if channel == "email":
            from airflow.providers.smtp.notifications.smtp import SmtpNotifier

            notifiers.append(
                SmtpNotifier(to=ALERT_EMAIL, subject=alert.subject, html_content=alert.html, smtp_conn_id=SMTP_CONN_ID)
            )
        elif channel == "sns":
            from airflow.providers.amazon.aws.notifications.sns import SnsNotifier

            notifiers.append(
                SnsNotifier(
                    aws_conn_id=AWS_CONN_ID,
                    target_arn=ALERT_SNS_TOPIC_ARN,
                    subject=alert.subject[:SNS_SUBJECT_CHARS],
                    message=f"{alert.subject}\n\n{alert.text}",
                )
            )
        elif channel == "slack":
            from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

            text = f"*{alert.subject}*\n{alert.text}"
            notifiers.append(SlackWebhookNotifier(slack_webhook_conn_id=SLACK_WEBHOOK_CONN_ID, text=text))
        else:
            raise ValueError(f"unknown alert channel {channel!r}")
    return notifiers


def send_alert(alert: Alert, context: Any) -> None:
    """Send through every channel; one channel failing does not stop the others (then raise).

    A failing channel is tried again after each pause of ``RETAIL_ALERT_RETRY_DELAYS_SECONDS``;
    an alert still not sent is logged whole ("alert LOST"), so the task log keeps what on-call
    should have read. Every channel's outcome (sent, or lost with its error) is a row of
    ``AUDIT.ALERT_LOG`` (lost ones: ``V_ALERTS_LOST_7D``). The task's own outcome never depends on
    its alert.

    ``notify()`` is called directly: the content is final and must not be rendered as Jinja (error
    text can contain braces).
    """
    errors = []
    for notifier in channel_notifiers(alert):
        channel = type(notifier).__name__
        try:
            _, tries = with_retries(
                f"alert {alert.subject!r} through {channel}",
                lambda notifier=notifier: notifier.notify(context),
                ALERT_RETRY_DELAYS_SECONDS,
                sleep=_pause,
            )
            record(alert, context, channel, "sent", tries, None)
        except GaveUp as exc:
            log.error("alert LOST after %d tries through %s: %s\n%s", exc.tries, channel, alert.subject, alert.text)
            record(alert, context, channel, "lost", exc.tries, f"{type(exc.cause).__name__}: {exc.cause}")
            errors.append(exc.cause)
    if errors:
        raise errors[0]


def _pause(seconds: float) -> None:
    time.sleep(seconds)


async def asend_alert(alert: Alert, context: Any) -> None:
    """Like :func:`send_alert`, for the triggerer (deadline callbacks run there)."""
    await asyncio.to_thread(send_alert, alert, context)
