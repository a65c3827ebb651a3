"""
# Retail daily pipeline

Loads one **business date** of partner feeds per run.

- **Business date** = the start of the run's data interval (UTC). The run for 2026-01-05 covers
  2026-01-05 00:00 to 2026-01-06 00:00 and starts after midnight, once partners can have
  delivered that day's files. Backfill a range with
  `airflow backfill create --dag-id retail_daily --from-date A --to-date B`.
- **Per feed** (`ingest_<feed>` groups): `wait_for_file` waits for `inbox/<feed>_<YYYYMMDD>.csv`
  (or its archived copy when the date is re-run); `load_feed` validates it against the contract
  (`docs/feeds.md`), replaces the feed's BRONZE partition for the date in one transaction, and
  only then archives the file under `history/<feed>/year=YYYY/month=MM/day=DD/`.
- A file that fails as a whole is moved to `quarantine/` with a `.reason.json` note and its
  feed fails the run; bad rows go to `AUDIT.LOAD_REJECTS`; every file is in `AUDIT.FILE_LOADS`.
- `sweep_inbox` quarantines inbox files no feed can claim (unknown feed, malformed name) and
  mails on-call; such files belong to no date, so the run itself stays green.
- Re-running a date is safe: the same file is never loaded twice (checksum ledger), and a
  changed file replaces the partition instead of adding to it.
- **Transforms** (`transform_window`, after every feed loaded), for the business date and the
  `lookback_days` before it (default 7): MERGE the window's BRONZE rows into SILVER (newest
  record wins) -> SILVER gate (row accounting, keys, freshness) -> rebuild the MODEL dimensions
  (SCD2 `DIM_CUSTOMER`) and facts those rows touched -> MODEL gate (orphans, SCD2) -> rebuild
  GOLD revenue for the window, RFM and churn features, committed only when GOLD reconciles with
  SILVER to the cent. A critical check fails the run; every result is in `AUDIT.DQ_RESULTS`.
- Dates may be backfilled in any order and several at once: `transform_window` runs for one date
  at a time, and each step rebuilds its window from the complete layer below, so the end state
  is the same.

- **Churn model** (after GOLD): `train_churn_model` trains on the weekly training day
  (`RETAIL_ML_TRAIN_WEEKDAY`, or the `train_churn_model` param), with time-based CV and a holdout,
  and promotes the best candidate only when it beats the champion; `score_churn_customers` writes
  the champion's scores for the business date (locally in Airflow; in production the Databricks
  job `include/ml/databricks/churn_scoring_job.json` when `RETAIL_ML_SCORING_BACKEND=databricks`).
  Both skip, saying why, while history or a champion is missing. See `docs/ml.md`.

Runbooks: `docs/runbooks/ingestion.md`, `docs/runbooks/transforms.md`, `docs/runbooks/on-call.md`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pendulum
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.databricks.operators.databricks import DatabricksRunNowOperator
from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook
from airflow.sdk import CronDataIntervalTimetable, Param, chain, dag, task, task_group
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from include import alerts
from include.airflow_common import DAG_CALLBACKS, DEFAULT_ARGS, business_date, daily_deadline
from include.config import (
    AWS_CONN_ID,
    DATABRICKS_CONN_ID,
    DATABRICKS_SCORING_JOB_ID,
    LOOKBACK_DAYS,
    ML_BUCKET,
    ML_SCORING_BACKEND,
    ML_TRAIN_WEEKDAY,
    SENSOR_POKE_SECONDS,
    SENSOR_TIMEOUT_SECONDS,
    SNOWFLAKE_CONN_ID,
)
from include.contracts import FEED_NAMES
from include.ingest import pipeline
from include.ingest.sensors import PartnerFileSensor
from include.ingest.validation import FileRejected
from include.transform import runner
from include.transform.window import Window

if TYPE_CHECKING:
    from include.ml.artifacts import S3Store


def _hooks() -> tuple[S3Hook, SnowflakeHook]:
    return S3Hook(aws_conn_id=AWS_CONN_ID), SnowflakeHook(snowflake_conn_id=SNOWFLAKE_CONN_ID)


@task(max_active_tis_per_dag=1)  # concurrent runs must not sweep (and alert) the same file twice
def sweep_inbox(**context) -> list[dict[str, str]]:
    s3, sf = _hooks()
    day = business_date(context)
    found = pipeline.find_unrecognised(s3, day)
    if found:
        # alert before moving anything: a failed mail is retried while the files are still there.
        # No business date is affected, so the run stays green.
        alerts.send_alert(alerts.unrecognised_files_alert(found, context), context)
        pipeline.quarantine_unrecognised(s3, sf, found, day, context["run_id"])
    return [{k: v for k, v in item.items() if k != "key"} for item in found]


@task
def load_feed(feed: str, **context) -> dict:
    """Validate the date's file, replace the feed's BRONZE partition, then archive the file."""
    s3, sf = _hooks()
    day, run_id = business_date(context), context["run_id"]
    try:
        outcome = pipeline.validate_feed_file(s3, sf, feed, day, run_id, force_reload=context["params"]["force_reload"])
    except FileRejected as exc:
        # retrying cannot fix a bad file: fail now, the file is already in quarantine
        raise AirflowFailException(f"{feed} file for {day} quarantined: {exc.reason}") from exc
    loaded = pipeline.load_bronze(s3, sf, outcome, run_id)
    archived_as = pipeline.archive(s3, outcome)  # only after the load committed
    return {**outcome.to_xcom(), **loaded, "archived_as": archived_as}


def _window(context: dict) -> Window:
    return Window.for_run(business_date(context), int(context["params"]["lookback_days"]))


# One run at a time transforms: no other run writes SILVER, MODEL or GOLD between this run's
# merge, its gates and its publication, and each step rebuilds what its window touched from the
# complete layer below, so backfilled dates end in the same tables whatever their order or overlap.
@task(max_active_tis_per_dag=1)
def transform_window(**context) -> dict:
    """SILVER merge -> SILVER gate -> MODEL build -> MODEL gate -> GOLD publication for the window."""
    try:
        return runner.transform_window(_hooks()[1], _window(context), context["run_id"])
    except runner.DataQualityError as exc:
        # bad data does not get better with a retry: fail now; the alert lists the failed checks
        raise AirflowFailException(str(exc)) from exc


def _ml_store(s3: S3Hook) -> S3Store:
    from include.ml.artifacts import S3Store  # scikit-learn & co. load in the ML tasks only, not at parse

    return S3Store(s3, ML_BUCKET)


# One training at a time: each reads the champion the previous one may have promoted.
@task(max_active_tis_per_dag=1)
def train_churn_model(**context) -> dict:
    """Weekly (or when the run's param asks): train, compare with the champion, register."""
    day, mode = business_date(context), context["params"]["train_churn_model"]
    if mode == "never" or (mode == "auto" and day.weekday() != ML_TRAIN_WEEKDAY):
        raise AirflowSkipException(f"no training for {day:%A %Y-%m-%d} (param train_churn_model={mode})")
    from include.ml import pipeline as ml_pipeline

    s3, sf = _hooks()
    try:
        return ml_pipeline.train_and_register(sf, _ml_store(s3), day, context["run_id"])
    except ml_pipeline.NotEnoughHistory as exc:
        raise AirflowSkipException(f"not enough labelled history to train: {exc}") from exc


@task(trigger_rule="none_failed")  # after training, or when training was skipped
def score_churn_customers(**context) -> dict:
    """The champion's churn score for every customer, as of the business date."""
    from include.ml import score as ml_score

    s3, sf = _hooks()
    try:
        return ml_score.score_customers(sf, _ml_store(s3), business_date(context))
    except ml_score.NoChampion as exc:
        raise AirflowSkipException(str(exc)) from exc


def score_churn_on_databricks() -> DatabricksRunNowOperator:
    """Production: the same scoring entry point as a Databricks job (include/ml/databricks/)."""
    return DatabricksRunNowOperator(
        task_id="score_churn_customers",
        databricks_conn_id=DATABRICKS_CONN_ID,
        job_id=DATABRICKS_SCORING_JOB_ID,
        job_parameters={"business_date": "{{ ds }}"},
        deferrable=True,
        trigger_rule="none_failed",
    )


@task_group
def ingest(feed: str) -> None:
    wait_for_file = PartnerFileSensor(
        task_id="wait_for_file",
        feed=feed,
        aws_conn_id=AWS_CONN_ID,
        mode="reschedule",
        poke_interval=SENSOR_POKE_SECONDS,
        timeout=SENSOR_TIMEOUT_SECONDS,  # a timeout fails at once (no retry): the file is missing
    )
    wait_for_file >> load_feed.override(task_id="load_feed")(feed)


@dag(
    dag_id="retail_daily",
    doc_md=__doc__,
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    max_consecutive_failed_dag_runs=10,
    default_args=DEFAULT_ARGS,
    deadline=daily_deadline(),
    **DAG_CALLBACKS,
    tags=["retail", "ingest", "bronze", "silver", "model", "gold", "dq", "ml"],
    params={
        "force_reload": Param(
            False, type="boolean", description="Reload files even when the same content was already loaded"
        ),
        "train_churn_model": Param(
            "auto",
            enum=["auto", "always", "never"],
            description="Train the churn model in this run: auto = on the weekly training day only",
        ),
        "lookback_days": Param(
            LOOKBACK_DAYS,
            type="integer",
            minimum=0,
            maximum=3660,
            description="Days before the business date that SILVER, MODEL and GOLD rebuild (late data). "
            "A large value is a full rebuild: see docs/runbooks/transforms.md",
        ),
    },
)
def retail_daily() -> None:
    sweep_inbox()
    ingested = [ingest.override(group_id=f"ingest_{feed}")(feed) for feed in FEED_NAMES]
    scoring = score_churn_on_databricks() if ML_SCORING_BACKEND == "databricks" else score_churn_customers()
    chain(ingested, transform_window(), train_churn_model(), scoring)


retail_daily()
