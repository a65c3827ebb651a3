"""Which runbook section a person should open for a failed task: one map for the alerts and the
Control Tower page (tests/dags checks every anchor is a real heading). No Airflow import."""

from __future__ import annotations

import re

from include.config import RUNBOOK_BASE

# task id pattern -> runbook section (file#anchor; tests/dags checks every anchor is a real heading)
RUNBOOK_SECTIONS: tuple[tuple[str, str], ...] = (
    (r"ingest_[a-z_]+\.wait_for_file", "ingestion.md#ingest_feedwait_for_file-failed-sensor-timed-out"),
    (r"ingest_[a-z_]+\.validate_file", "ingestion.md#ingest_feedvalidate_file-failed-the-file-was-quarantined"),
    (r"ingest_[a-z_]+\.(load_bronze|archive_file)", "ingestion.md#ingest_feedload_bronze-or-archive_file-failed"),
    (r"sweep_inbox", "ingestion.md#sweep_inbox-found-unrecognised-files"),
    (r"(acquire|release)_transform_lock", "transforms.md#the-transform-lock"),
    (r"(silver|model)\.[a-z_]+", "transforms.md#a-silver-or-model-build-task-failed"),
    (r"silver_checks\.[a-z_]+", "transforms.md#silver_checks-a-critical-silver-check-failed"),
    (r"model_checks\.[a-z_]+", "transforms.md#model_checks-a-critical-model-check-failed"),
    (r"gold\.(build|publish)", "transforms.md#goldbuild-or-goldpublish-failed"),
    (r"gold\.[a-z_]+", "transforms.md#a-gold-check-failed-nothing-was-published"),
    (r"refresh_bi_dataset", "transforms.md#refresh_bi_dataset-failed"),
    (r"train_churn_model", "churn-model.md#train_churn_model-failed"),
    (r"score_churn_customers", "churn-model.md#score_churn_customers-failed"),
    (r"monitor_churn_model", "churn-model.md#monitor_churn_model-failed"),
    (r"apply_[a-z_]+", "on-call.md#retail_warehouse_setup-failed"),
)
RUNBOOK_FALLBACK = "on-call.md#what-reaches-on-call"

# Sections for what an alert or the Control Tower page reports besides a failed task.
UNRECOGNISED_FILES = "ingestion.md#sweep_inbox-found-unrecognised-files"
LATE_FILES = "ingestion.md#sweep_inbox-found-late-files"
QUARANTINED_FILE = "ingestion.md#ingest_feedvalidate_file-failed-the-file-was-quarantined"
MISSING_FILE = "ingestion.md#ingest_feedwait_for_file-failed-sensor-timed-out"
REJECTED_ROWS = "ingestion.md#rows-were-rejected"
CHECK_WARNINGS = "transforms.md#warnings-the-run-stays-green"
BACKFILL_FROM_THE_UI = "backfill.md#from-the-ui"
MODEL_MONITORING = "churn-model.md#monitor_churn_model-alerted"
LATE_RUN = "on-call.md#late-the-daily-run-has-not-finished-deadline-alert"
LOST_ALERTS = RUNBOOK_FALLBACK
# every section named here besides the task map (tests/dags checks each anchor is a real heading)
NAMED_SECTIONS = (
    UNRECOGNISED_FILES, LATE_FILES, QUARANTINED_FILE, MISSING_FILE, REJECTED_ROWS, CHECK_WARNINGS,
    BACKFILL_FROM_THE_UI, MODEL_MONITORING, LATE_RUN, LOST_ALERTS,
)  # fmt: skip


def runbook_section(task_id: str) -> str:
    """The runbook section (``file.md#anchor``) for a failed task."""
    return next((ref for pattern, ref in RUNBOOK_SECTIONS if re.fullmatch(pattern, task_id)), RUNBOOK_FALLBACK)


def runbook_for(task_id: str) -> str:
    """The runbook section on-call should open for a failed task."""
    return link(runbook_section(task_id))


def link(section: str) -> str:
    """A section (``file.md#anchor``) as on-call reads it: under ``RETAIL_RUNBOOK_BASE``."""
    return f"{RUNBOOK_BASE}/{section}"
