"""
# Retail daily pipeline

One run per **business date** loads the day's partner feeds, then brings SILVER, MODEL and GOLD
up to date with everything loaded since the last GOLD publication (its *change set*: a late row
of any age reaches the day it belongs to). A run's cost follows what changed, not the history.

**The business date** is the run's logical date: the day a scheduled run covers (it starts after
that day ended), the date a backfill names, or the logical date typed into the trigger form; the
`business_date` param, when set, overrides it. Backfill a range from the UI (*Backfill*) or
`airflow backfill create --dag-id retail_daily --from-date <first date> --to-date <last date>
--reprocess-behavior failed`.

The grid, left to right:

1. `ingest_<feed>` (one group per feed): `wait_for_file` (starts in the triggerer, no worker
   process; the inbox file or, on a re-run, its archived copy) -> `validate_file` (the contract
   in `docs/feeds.md`; a bad file is quarantined with a reason) -> `load_bronze` (replaces the
   feed's BRONZE partition in one transaction) -> `archive_file`
   (`history/<feed>/year=/month=/day=/`). `sweep_inbox`
   quarantines files no feed can claim, and reports files that arrived after their date ran.
2. `acquire_transform_lock` (setup) ... `release_transform_lock` (teardown): one run at a time
   between its first SILVER merge and its GOLD publication, so backfills in any order and several
   at once end in the same tables (docs/architecture.md).
   `plan_change_set`: the BRONZE partitions of the business date or before loaded since a
   publication last covered them (any run's), plus, with `lookback_days` above 0, the business
   date's and the days before it again.
3. `silver`: one MERGE per object from the change set, newest record wins -> `silver_checks`:
   row accounting, keys, freshness.
4. `model`: dimensions (SCD2 customers), then the facts the change set touches, then the
   per-customer aggregates (`customer_activity`) -> `model_checks`: orphans, SCD2 integrity, fact keys.
5. `gold`: `build` (the changed dates and months, and the customer tables, into GOLD_STAGE) ->
   checks (`reconciliation`, `completeness`, `column_checks`) -> `publish` (copy to GOLD in one
   transaction, only if the critical checks passed; marks the change set processed).
6. `train_churn_model` (weekly) -> `score_churn_customers` (daily; a Databricks job in production)
   -> `monitor_churn_model` (stability and realised quality; alerts past a threshold).

A critical check failing turns its own task red and stops the date before GOLD changes; every
result, warnings included, is in `AUDIT.DQ_RESULTS`. Every task try is in `AUDIT.TASK_RUN_LOG`.
Which task to clear for which alert: `docs/runbooks/`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, PokeReturnValue, TaskGroup, chain, dag, task, task_group
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from include import alerts, business_date, run_params
from include.airflow_common import DAG_CALLBACKS, DEFAULT_ARGS, SQL_TEMPLATE_ARGS, daily_deadline
from include.config import (
    AWS_CONN_ID,
    BI_REFRESH,
    DAILY_DAG_ID,
    LOOKBACK_DAYS,
    ML_BUCKET,
    ML_QUEUE,
    ML_SCORING_BACKEND,
    ML_TRAIN_WEEKDAY,
    SENSOR_POKE_SECONDS,
    SENSOR_TIMEOUT_SECONDS,
    SNOWFLAKE_CONN_ID,
    TRANSFORM_LOCK_LEASE_MINUTES,
    TRANSFORM_LOCK_POKE_SECONDS,
    WAREHOUSE,
)
from include.contracts import FEED_NAMES
from include.declarations import declared
from include.ingest.sensors import PartnerFileSensor
from include.transform.graph import upstream
from include.transform.layers import CHECKS, LAYER_OBJECTS
from include.transform.operators import (
    DataQualityCheckOperator,
    GoldPublishOperator,
    LayerSQLOperator,
    RecordedColumnCheckOperator,
)


def _s3():
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook  # provider hooks load in tasks, not at parse

    return S3Hook(aws_conn_id=AWS_CONN_ID)


def _snowflake(role: str):
    """The Snowflake hook of a task working as ``role`` (loader, transformer, ml): docs/production.md."""
    from include.warehouse import snowflake_hook

    return snowflake_hook(role, SNOWFLAKE_CONN_ID)


# ---------------------------------------------------------------------------------- ingestion
# Validation, the ledger and the BRONZE load stay Python in @task: each step mixes S3 and
# Snowflake (checksum ledger, staged files, PUT into the local stage) and the load must replace
# the partition, COPY and check the row count in one transaction, which no provider operator does.


@task(max_active_tis_per_dag=1)  # concurrent runs must not sweep (and alert) the same file twice
def sweep_inbox(**context) -> list[dict[str, str]]:
    from include.ingest import pipeline

    s3, sf, day = _s3(), _snowflake("loader"), business_date.from_context(context)
    found = pipeline.find_unrecognised(s3, day)
    if found:
        # alert before moving anything: a failed mail is retried while the files are still there.
        # No business date is affected, so the run stays green.
        alerts.send_alert(alerts.unrecognised_files_alert(found, context), context)
        pipeline.quarantine_unrecognised(s3, sf, found, day, context["run_id"])
    # files for an earlier date that already ran: reported once instead of waiting unseen
    late = pipeline.find_late(s3, sf, day, context["ti"].dag_id)
    if told := [item for item in late if item["kind"] != "duplicate"]:
        alerts.send_alert(alerts.late_files_alert(told, context), context)
    pipeline.settle_late(s3, sf, late, context["run_id"])
    return [{k: v for k, v in item.items() if k != "key"} for item in found + late]


# multiple_outputs=False: a `-> dict` task would also push each key as its own XCom. Nothing reads
# them (downstream tasks and the run-log take the whole value), and each push is a round trip to
# the API server: 152 of a run's 199 XComs.
@task(multiple_outputs=False)
def validate_file(feed: str, **context) -> dict:
    """Check the date's file against the contract; stage accepted rows and rejects for COPY."""
    from include.ingest import pipeline
    from include.ingest.validation import FileRejected

    day = business_date.from_context(context)
    try:
        reload, sf = run_params.force_reload(context["params"]), _snowflake("loader")
        outcome = pipeline.validate_feed_file(_s3(), sf, feed, day, context["run_id"], force_reload=reload)
    except FileRejected as exc:
        # retrying cannot fix a bad file: fail now, the file is already in quarantine
        raise AirflowFailException(f"{feed} file for {day} quarantined: {exc.reason}") from exc
    return outcome.to_xcom()


@task(multiple_outputs=False)
def load_bronze(outcome: dict, **context) -> dict:
    """Replace the feed's BRONZE partition for the date with the validated rows (one transaction)."""
    from include.ingest import pipeline

    return pipeline.load_bronze(_s3(), _snowflake("loader"), pipeline.FileOutcome.from_xcom(outcome), context["run_id"])


@task
def archive_file(outcome: dict) -> str:
    """Move the loaded inbox file under history/ (only after the load committed)."""
    from include.ingest import pipeline

    return pipeline.archive(_s3(), pipeline.FileOutcome.from_xcom(outcome))


@task_group
def ingest(feed: str):
    wait_for_file = PartnerFileSensor(
        task_id="wait_for_file",
        feed=feed,
        aws_conn_id=AWS_CONN_ID,
        poke_interval=SENSOR_POKE_SECONDS,
        timeout=SENSOR_TIMEOUT_SECONDS,  # a timeout fails at once (no retry): the file is missing
        mode="reschedule",  # only when deferrable=False
    )
    outcome = validate_file(feed)
    loaded = load_bronze(outcome)
    wait_for_file >> outcome
    loaded >> archive_file(outcome)
    return loaded


# ------------------------------------------------------------------------------ transform lock
# Poke mode: a waiting run holds a worker slot but takes the lock within seconds of its release
# (a rescheduled sensor would start a task process per look). First come, first served.
# none_failed: a feed whose files start later (active_from) skips its group; a failed load still stops the date
@task.sensor(poke_interval=TRANSFORM_LOCK_POKE_SECONDS, timeout=6 * 3600, mode="poke", trigger_rule="none_failed")
def acquire_transform_lock(**context) -> PokeReturnValue:
    """Wait until this run holds the transform lock (another run may be transforming)."""
    from include.transform import lock

    acquired, holder = lock.try_acquire(
        _snowflake("transformer"),
        context["run_id"],
        business_date.from_context(context),
        TRANSFORM_LOCK_LEASE_MINUTES,
        stale_seconds=max(60, 10 * TRANSFORM_LOCK_POKE_SECONDS),
    )
    if not acquired:
        print(f"transform lock held by {holder.describe()}; waiting")  # noqa: T201 - shown in the task log
    return PokeReturnValue(is_done=acquired)


@task
def release_transform_lock(**context) -> str:
    from include.transform import lock

    return lock.release(_snowflake("transformer"), context["run_id"]).describe()


# ------------------------------------------------------------------------------------- layers
def layer_objects(layer: str) -> list[LayerSQLOperator]:
    """One task per object: the MERGE or delete + insert in include/sql/<layer>/<object>.sql, each
    after the objects whose tables its SQL reads (include/transform/graph.py)."""
    tasks = {obj: LayerSQLOperator(task_id=obj, sql=f"{layer}/{obj}.sql") for obj in LAYER_OBJECTS[layer]}
    for obj, earlier in upstream(layer).items():
        for first in earlier:
            tasks[first] >> tasks[obj]
    return list(tasks.values())


def layer_checks(layer: str) -> list[DataQualityCheckOperator]:
    """One task per check file include/sql/dq/<layer>/<check>.sql; every result goes to AUDIT.DQ_RESULTS."""
    return [DataQualityCheckOperator(task_id=c, layer=layer, sql=f"dq/{layer}/{c}.sql") for c in CHECKS[layer]]


GOLD_ASSETS = ("DAILY_REVENUE", "MONTHLY_REVENUE", "CUSTOMER_RFM", "CUSTOMER_FEATURES")


def gold_assets() -> list:
    """The published GOLD tables, as Assets a consumer DAG can be scheduled on.

    Name-only (no ``snowflake://`` URI): a URI makes every parse load all providers' URI handlers.
    """
    from airflow.sdk import Asset

    return [
        Asset(f"retail_gold_{t.lower()}", extra={"table": WAREHOUSE.qualified(WAREHOUSE.gold, t)}) for t in GOLD_ASSETS
    ]


def gold_publication() -> GoldPublishOperator:
    """Write-audit-publish: build in GOLD_STAGE, check it, copy it to GOLD only if it passed."""
    build = LayerSQLOperator(task_id="build", sql="gold/build.sql")
    # the column checks each GOLD table declares (include/sql/gold/gold.yml), on its staged build
    checked = [obj for obj in declared("gold") if obj.checks]
    column_checks = [
        RecordedColumnCheckOperator(
            task_id="column_checks" if len(checked) == 1 else f"column_checks_{obj.name.lower()}",
            layer="gold",
            table=WAREHOUSE.qualified(WAREHOUSE.gold_stage, obj.name),
            column_mapping=obj.column_checks(),
            severities={column: obj.check_severity(column) for column in obj.column_checks()},
        )
        for obj in checked
    ]
    checks = [*layer_checks("gold"), *column_checks]
    publish = GoldPublishOperator(
        task_id="publish",
        sql="gold/publish.sql",
        guard_sql="gold/publish_guard.sql",
        expected_checks=len(checks),
        outlets=gold_assets(),
    )
    build >> checks >> publish
    return publish


# ------------------------------------------------------------------------------------ churn model
# One training at a time: each reads the champion the previous one may have promoted.
@task(max_active_tis_per_dag=1, multiple_outputs=False, queue=ML_QUEUE)
def train_churn_model(**context) -> dict:
    """Weekly (or when the run's param asks): train, compare with the champion, register."""
    day, mode = business_date.from_context(context), run_params.train_mode(context["params"])
    if mode == "never" or (mode == "auto" and day.weekday() != ML_TRAIN_WEEKDAY):
        raise AirflowSkipException(f"no training for {day:%A %Y-%m-%d} (param train_churn_model={mode})")
    from include.ml import pipeline as ml_pipeline
    from include.ml.artifacts import S3Store

    try:
        return ml_pipeline.train_and_register(_snowflake("ml"), S3Store(_s3(), ML_BUCKET), day, context["run_id"])
    except ml_pipeline.NotEnoughHistory as exc:
        raise AirflowSkipException(f"not enough labelled history to train: {exc}") from exc


@task(trigger_rule="none_failed", multiple_outputs=False, queue=ML_QUEUE)  # after training, or when it was skipped
def score_churn_customers(**context) -> dict:
    """The champion's churn score for every active customer, as of the business date."""
    from include.ml import registry

    day, sf = business_date.from_context(context), _snowflake("ml")
    if registry.champion_as_of(sf, day) is None:  # before importing scikit-learn & co. (seconds)
        raise AirflowSkipException(f"no churn model promoted on or before {day}: nothing to score with")
    from include.ml import score as ml_score
    from include.ml.artifacts import S3Store

    return ml_score.score_customers(sf, S3Store(_s3(), ML_BUCKET), day)


@task(trigger_rule="none_failed", multiple_outputs=False, queue=ML_QUEUE)  # also after a skipped scoring
def monitor_churn_model(**context) -> dict:
    """Stability of the date's scores against the model's holdout; realised quality of the scores of
    one horizon ago. Thresholds crossed: an alert to on-call, the task stays green (docs/ml.md)."""
    from include.sql_render import render_sql

    day, sf = business_date.from_context(context), _snowflake("ml")
    (scores,) = sf.get_first(render_sql("ml/scores_of_date.sql"), parameters={"business_date": day})
    if not scores:  # before importing scikit-learn & co. (seconds)
        raise AirflowSkipException(f"nothing to monitor for {day}: no churn scores")
    from include.ml import monitoring
    from include.ml.artifacts import S3Store

    summary = monitoring.monitor_date(sf, S3Store(_s3(), ML_BUCKET), day)
    if not summary["measures"]:
        raise AirflowSkipException(f"nothing to monitor for {day}: a model without its reference")
    if summary["alerts"]:
        alerts.send_alert(alerts.model_monitoring_alert(summary, context), context)
    return summary


def score_churn_on_databricks():
    """Production: the same scoring entry point as a Databricks job (include/ml/databricks/)."""
    from airflow.providers.databricks.operators.databricks import DatabricksRunNowOperator

    from include.config import DATABRICKS_CONN_ID, DATABRICKS_SCORING_JOB_ID

    class ScoreOnDatabricks(business_date.BusinessDateTemplates, DatabricksRunNowOperator):
        """DatabricksRunNowOperator whose job parameters can name the run's business date."""

    return ScoreOnDatabricks(
        task_id="score_churn_customers",
        databricks_conn_id=DATABRICKS_CONN_ID,
        job_id=DATABRICKS_SCORING_JOB_ID,
        job_parameters={"business_date": "{{ business_date }}"},
        deferrable=True,
        trigger_rule="none_failed",
    )


def refresh_bi_dataset():
    """Optional (RETAIL_BI_REFRESH=powerbi): refresh the Power BI dataset over GOLD once it is published."""
    from airflow.providers.microsoft.azure.operators.powerbi import PowerBIDatasetRefreshOperator

    from include.config import POWERBI_CONN_ID, POWERBI_DATASET_ID, POWERBI_GROUP_ID

    if not (POWERBI_GROUP_ID and POWERBI_DATASET_ID):
        raise ValueError("RETAIL_BI_REFRESH=powerbi needs RETAIL_POWERBI_GROUP_ID and RETAIL_POWERBI_DATASET_ID")
    return PowerBIDatasetRefreshOperator(
        task_id="refresh_bi_dataset",
        conn_id=POWERBI_CONN_ID,
        group_id=POWERBI_GROUP_ID,
        dataset_id=POWERBI_DATASET_ID,
        check_interval=60,
        timeout=3600,
    )


@dag(
    dag_id=DAILY_DAG_ID,
    doc_md=__doc__,
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    max_consecutive_failed_dag_runs=10,
    default_args=DEFAULT_ARGS,
    deadline=daily_deadline(),
    **DAG_CALLBACKS,
    **SQL_TEMPLATE_ARGS,
    tags=["retail", "ingest", "bronze", "silver", "model", "gold", "dq", "ml"],
    params={
        business_date.PARAM: Param(
            None,
            type=["null", "string"],
            format="date",
            title="Business date",
            description="Single runs only: the date to process. Empty: the logical date (a scheduled run's "
            "day, each date of a backfill, the date typed above); no logical date either: yesterday.",
        ),
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
            description="0: transform what changed since the last publication (late rows of any age included). "
            "N: also re-process the business date's partitions and the N days before it, changed or not: "
            "a rebuild of that range (docs/runbooks/transforms.md)",
        ),
    },
)
def retail_daily() -> None:
    sweep_inbox()
    loaded = [ingest.override(group_id=f"ingest_{feed}")(feed) for feed in FEED_NAMES]
    lock = acquire_transform_lock()
    plan_change_set = LayerSQLOperator(task_id="plan_change_set", sql="audit/plan_change_set.sql")
    with TaskGroup("silver", tooltip="one MERGE per SILVER object from the change set, newest record wins") as silver:
        layer_objects("silver")
    with TaskGroup("silver_checks", tooltip="row accounting, keys, freshness") as silver_checks:
        layer_checks("silver")
    with TaskGroup("model", tooltip="dimensions (SCD2 customers), facts, customer aggregates") as model:
        layer_objects("model")
    with TaskGroup("model_checks", tooltip="orphans, SCD2 integrity, fact keys") as model_checks:
        layer_checks("model")
    with TaskGroup("gold", tooltip="write-audit-publish: build, check, publish") as gold:
        publish = gold_publication()
    chain(loaded, lock, plan_change_set, silver, silver_checks, model, model_checks, gold)
    publish >> release_transform_lock().as_teardown(setups=lock)
    scoring = score_churn_on_databricks() if ML_SCORING_BACKEND == "databricks" else score_churn_customers()
    publish >> train_churn_model() >> scoring >> monitor_churn_model()
    if BI_REFRESH == "powerbi":
        publish >> refresh_bi_dataset()
    elif BI_REFRESH:
        raise ValueError(f"RETAIL_BI_REFRESH={BI_REFRESH!r}: use powerbi, or leave it empty")


retail_daily()
