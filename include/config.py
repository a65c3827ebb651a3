"""Names shared by every DAG: connection ids, warehouse objects, bucket layout.

Everything comes from environment variables with defaults, read at import (no Airflow
Variable or Connection look-ups at parse time). Production changes only the environment and the
Airflow connections; the code and SQL are the same everywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default) or default


# The DAGs' ids: the alerts, the runbooks' commands, the Control Tower and the local stack name them.
DAILY_DAG_ID = "retail_daily"
SETUP_DAG_ID = "retail_warehouse_setup"

SNOWFLAKE_CONN_ID = _env("RETAIL_SNOWFLAKE_CONN_ID", "snowflake_default")
AWS_CONN_ID = _env("RETAIL_AWS_CONN_ID", "aws_default")
DATABRICKS_CONN_ID = _env("RETAIL_DATABRICKS_CONN_ID", "databricks_default")
SMTP_CONN_ID = _env("RETAIL_SMTP_CONN_ID", "smtp_default")
# The audit run-log may live behind its own connection (default: the pipeline's).
AUDIT_CONN_ID = _env("RETAIL_AUDIT_CONN_ID", SNOWFLAKE_CONN_ID)
# The Control Tower page (plugins/control_tower.py) reads the warehouse through this connection:
# in production a user holding only the control tower role (docs/production.md).
CONTROL_TOWER_CONN_ID = _env("RETAIL_CONTROL_TOWER_CONN_ID", "snowflake_control_tower")
# A task never waits longer than this for its audit row to be written.
AUDIT_TIMEOUT_SECONDS = float(_env("RETAIL_AUDIT_TIMEOUT_SECONDS", "30"))


@dataclass(frozen=True)
class Warehouse:
    """Snowflake database, schemas and load objects, exposed to SQL templates as ``wh``."""

    database: str = _env("RETAIL_DATABASE", "RETAIL_DB")
    bronze: str = _env("RETAIL_SCHEMA_BRONZE", "BRONZE")
    silver: str = _env("RETAIL_SCHEMA_SILVER", "SILVER")
    model: str = _env("RETAIL_SCHEMA_MODEL", "MODEL")
    gold: str = _env("RETAIL_SCHEMA_GOLD", "GOLD")
    # GOLD is built here first and copied to ``gold`` only after its checks pass (write-audit-publish)
    gold_stage: str = _env("RETAIL_SCHEMA_GOLD_STAGE", "GOLD_STAGE")
    ml: str = _env("RETAIL_SCHEMA_ML", "ML")
    audit: str = _env("RETAIL_SCHEMA_AUDIT", "AUDIT")
    # "external": COPY from an external stage over the bucket (production);
    # "put": PUT the validated file into an internal stage first (local stack).
    stage_mode: str = _env("RETAIL_STAGE_MODE", "external")
    stage: str = _env("RETAIL_STAGE", "PARTNER_FILES")
    storage_integration: str = _env("RETAIL_STORAGE_INTEGRATION", "RETAIL_S3_INTEGRATION")
    file_format: str = "PARTNER_CSV"
    # internal stage of the ML schema: the churn tables' rows are PUT here and COPied in
    ml_stage: str = "ML_ROWS"
    schemas: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        schemas = (self.bronze, self.silver, self.model, self.gold, self.gold_stage, self.ml, self.audit)
        object.__setattr__(self, "schemas", schemas)

    def qualified(self, schema: str, name: str) -> str:
        return f"{self.database}.{schema}.{name}"

    @property
    def stage_ref(self) -> str:
        return f"@{self.database}.{self.bronze}.{self.stage}"


WAREHOUSE = Warehouse()


@dataclass(frozen=True)
class Roles:
    """Least-privilege Snowflake roles (include/sql/security/roles_and_grants.sql)."""

    prefix: str = _env("RETAIL_ROLE_PREFIX", "RCT")
    # the virtual warehouse every role may use
    compute_warehouse: str = _env("RETAIL_COMPUTE_WAREHOUSE", "RETAIL_WH")
    # the role that owns the platform's roles; custom roles roll up to SYSADMIN by convention
    parent: str = _env("RETAIL_ROLES_PARENT", "SYSADMIN")

    def _role(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    loader = property(lambda self: self._role("LOADER"))  # BRONZE, the stage, the file ledger
    transformer = property(lambda self: self._role("TRANSFORMER"))  # SILVER, MODEL, GOLD, checks
    ml = property(lambda self: self._role("ML"))  # the ML schema; reads MODEL and GOLD
    run_logger = property(lambda self: self._role("RUN_LOGGER"))  # the audit run-log listener
    bi_reader = property(lambda self: self._role("BI_READER"))  # GOLD views only
    auditor = property(lambda self: self._role("AUDITOR"))  # reads AUDIT
    # the Control Tower page in the Airflow UI: BI reader + auditor + the ML views
    control_tower = property(lambda self: self._role("CONTROL_TOWER"))
    pipeline = property(lambda self: self._role("PIPELINE"))  # the Airflow service user's role
    # owns the database and every object in it: the set-up DAG creates and alters them as this role
    owner = property(lambda self: self._role("OWNER"))

    @property
    def task_roles(self) -> tuple[str, ...]:
        """Every role a platform task or reader works as."""
        readers = (self.bi_reader, self.auditor, self.control_tower)
        return (self.loader, self.transformer, self.ml, self.run_logger, *readers)


ROLES = Roles()


@dataclass(frozen=True)
class ServiceUsers:
    """The Snowflake users the platform's Airflow connections log in as (the account admin script,
    include/sql/security/00_account_admin.sql, creates them with their default roles)."""

    deploy: str = _env("RETAIL_SNOWFLAKE_DEPLOY_USER", "RCT_DEPLOY_SVC")  # snowflake_deploy: the set-up DAG
    pipeline: str = _env("RETAIL_SNOWFLAKE_PIPELINE_USER", "RCT_PIPELINE_SVC")  # snowflake_default: every task
    control_tower: str = _env("RETAIL_SNOWFLAKE_CONTROL_TOWER_USER", "RCT_CONTROL_TOWER_SVC")  # the UI page


USERS = ServiceUsers()
# The setup DAG creates the warehouse's objects through this connection, as the owner role.
SNOWFLAKE_DEPLOY_CONN_ID = _env("RETAIL_SNOWFLAKE_DEPLOY_CONN_ID", "snowflake_deploy")
# The setup DAG applies the roles and grants only where this is true, through an administrator
# connection (a role with CREATE ROLE and MANAGE GRANTS, e.g. SECURITYADMIN); the local stack
# applies them too (its stand-in enforces them).
APPLY_GRANTS = _env("RETAIL_APPLY_GRANTS", "false").lower() == "true"
SNOWFLAKE_ADMIN_CONN_ID = _env("RETAIL_SNOWFLAKE_ADMIN_CONN_ID", "snowflake_admin")


@dataclass(frozen=True)
class Landing:
    """Layout of the partner bucket."""

    bucket: str = _env("RETAIL_LANDING_BUCKET", "retail-landing")
    inbox: str = "inbox"
    history: str = "history"
    quarantine: str = "quarantine"
    staging: str = "staging"

    def inbox_key(self, file_name: str) -> str:
        return f"{self.inbox}/{file_name}"

    @staticmethod
    def _partition(feed: str, day: date) -> str:
        return f"{feed}/year={day:%Y}/month={day:%m}/day={day:%d}"

    def history_key(self, feed: str, day: date, file_name: str) -> str:
        return f"{self.history}/{self._partition(feed, day)}/{file_name}"

    def quarantine_key(self, feed: str, day: date, file_name: str) -> str:
        return f"{self.quarantine}/{self._partition(feed, day)}/{file_name}"

    @staticmethod
    def staging_path(feed: str, day: date, file_name: str) -> str:
        """Path of a validated file below the staging prefix (= below the external stage's URL)."""
        return f"{feed}/{day:%Y%m%d}/{file_name}"


LANDING = Landing()

# Churn model artifacts and reports: s3://<ML_BUCKET>/models/churn/<version>/<model id>/
ML_BUCKET = _env("RETAIL_ML_BUCKET", "retail-ml")
# Where customer scoring runs: "airflow" (a task in the DAG) or "databricks" (the job below).
ML_SCORING_BACKEND = _env("RETAIL_ML_SCORING_BACKEND", "airflow")
DATABRICKS_SCORING_JOB_ID = _env("RETAIL_DATABRICKS_SCORING_JOB_ID", "")
# The Celery queue of the churn model's tasks (training peaks at a few GiB): production routes it
# to workers sized for it (docs/production.md#executors); ignored by the Local and Kubernetes executors.
ML_QUEUE = _env("RETAIL_ML_QUEUE", "default")
# Train on this weekday's run (0 = Monday ... 6 = Sunday); the run's param can force it.
ML_TRAIN_WEEKDAY = int(_env("RETAIL_ML_TRAIN_WEEKDAY", "6"))

# Sensors: how often to look for a file and how long to wait before alerting.
SENSOR_POKE_SECONDS = int(_env("RETAIL_SENSOR_POKE_SECONDS", "300"))
SENSOR_TIMEOUT_SECONDS = int(_env("RETAIL_SENSOR_TIMEOUT_SECONDS", str(6 * 3600)))
# A file with a larger share of rejected rows is quarantined as a whole.
MAX_REJECT_SHARE = float(_env("RETAIL_MAX_REJECT_SHARE", "0.05"))

# A daily run transforms what changed since the last publication; above 0, it also re-processes its
# business date's BRONZE partitions and this many days before it (a rebuild of that range).
LOOKBACK_DAYS = int(_env("RETAIL_LOOKBACK_DAYS", "0"))
# One run at a time holds the transform lock (SILVER merge .. GOLD publication). A holder that
# vanished without releasing it (its tasks killed and never cleared) loses it after the lease.
TRANSFORM_LOCK_LEASE_MINUTES = int(_env("RETAIL_TRANSFORM_LOCK_LEASE_MINUTES", "120"))
TRANSFORM_LOCK_POKE_SECONDS = int(_env("RETAIL_TRANSFORM_LOCK_POKE_SECONDS", "3"))

# BI refresh after every GOLD publication: "" (off, the default) or "powerbi" (a Power BI dataset
# refreshed through the Microsoft Azure provider, connection RETAIL_POWERBI_CONN_ID).
BI_REFRESH = _env("RETAIL_BI_REFRESH", "")
POWERBI_CONN_ID = _env("RETAIL_POWERBI_CONN_ID", "powerbi_default")
POWERBI_GROUP_ID = _env("RETAIL_POWERBI_GROUP_ID", "")
POWERBI_DATASET_ID = _env("RETAIL_POWERBI_DATASET_ID", "")

# Where on-call alerts go: any of email (SMTP, the default), sns, slack, comma separated.
ALERT_CHANNELS = tuple(c.strip() for c in _env("RETAIL_ALERT_CHANNELS", "email").split(",") if c.strip())
ALERT_EMAIL = _env("RETAIL_ALERT_EMAIL", "oncall@localhost")  # a list address in production
# A channel that fails (mail relay down, webhook timing out) is tried again after each of these
# pauses before the alert is given up as lost (logged with the whole alert).
ALERT_RETRY_DELAYS_SECONDS = tuple(
    float(v) for v in _env("RETAIL_ALERT_RETRY_DELAYS_SECONDS", "5,15").split(",") if v.strip()
)
ALERT_SNS_TOPIC_ARN = _env("RETAIL_ALERT_SNS_TOPIC_ARN", "")
SLACK_WEBHOOK_CONN_ID = _env("RETAIL_SLACK_WEBHOOK_CONN_ID", "slack_default")
# A scheduled daily run not finished this many hours after its business day ended alerts on-call.
DEADLINE_HOURS = float(_env("RETAIL_DEADLINE_HOURS", "6"))
# First retry delay of every task (doubles per retry, at most 10 minutes).
RETRY_DELAY_SECONDS = int(_env("RETAIL_RETRY_DELAY_SECONDS", "30"))
RUNBOOK_BASE = _env("RETAIL_RUNBOOK_BASE", "docs/runbooks")
