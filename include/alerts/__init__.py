"""On-call alerts, by job (each module testable alone, none doing work at import):

- ``messages``: what an alert says (subject, HTML, plain text), pure functions of its facts;
- ``delivery``: how it is sent (the provider notifier of each configured channel, retried);
- ``log``: what is recorded of it (``AUDIT.ALERT_LOG``);
- ``notifiers``: the Airflow callbacks that gather the facts and send (failure, recovery, deadline).

Why did on-call get this mail? Its subject names the builder in ``messages``; the callback that
sent it is in ``notifiers``; its fate is a row of ``AUDIT.ALERT_LOG``.
"""

from include.alerts.delivery import asend_alert, channel_notifiers, send_alert
from include.alerts.messages import (
    Alert,
    build_deadline_alert,
    build_failure_alert,
    build_recovery_alert,
    late_files_alert,
    model_monitoring_alert,
    unrecognised_files_alert,
)
from include.alerts.notifiers import OnCallFailureNotifier, RecoveryNotifier, deadline_missed

__all__ = [
    "Alert",
    "OnCallFailureNotifier",
    "RecoveryNotifier",
    "asend_alert",
    "build_deadline_alert",
    "build_failure_alert",
    "build_recovery_alert",
    "channel_notifiers",
    "deadline_missed",
    "late_files_alert",
    "model_monitoring_alert",
    "send_alert",
    "unrecognised_files_alert",
]
