"""Provider SQL operators for the daily DAG's transform steps, made aware of the run's window.

- :class:`LayerSQLOperator`: ``SQLExecuteQueryOperator`` running one object's SQL file for the
  run's window; returns rows affected and Snowflake query ids (the audit run-log reads them).
- :class:`DataQualityCheckOperator`: ``SQLCheckOperator`` whose query returns one row per check
  result; every result is recorded in ``AUDIT.DQ_RESULTS``; only critical failures fail the task.
- :class:`RecordedColumnCheckOperator`: the provider's ``SQLColumnCheckOperator``, its results
  recorded the same way.
- :class:`GoldPublishOperator`: publishes GOLD_STAGE, after making sure it holds this run's
  build and that the build's checks passed.

Templates see ``window`` (business date and lookback, ``include.transform.window``) and
``business_date`` besides Airflow's own context.

Each reports its input and output tables to OpenLineage (apache-airflow-providers-openlineage,
when a transport is configured: docs/architecture.md "Lineage") from the transform graph
(include/transform/graph.py), the same ``ref()`` calls that order the steps, not from parsing the
rendered SQL against the warehouse's information schema.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import suppress as _suppressed
from dataclasses import asdict
from datetime import date
from typing import Any

from airflow.providers.common.sql.operators.sql import (
    SQLCheckOperator,
    SQLColumnCheckOperator,
    SQLExecuteQueryOperator,
)
from airflow.sdk.exceptions import AirflowFailException

from include.business_date import BusinessDateTemplates
from include.config import SNOWFLAKE_CONN_ID, WAREHOUSE
from include.transform.layers import CheckResult, DataQualityError, rows_affected
from include.transform.window import Window
from include.warehouse import hook_params, one_connection, query_tag, transaction

log = logging.getLogger(__name__)


class _RunWindowTemplates(BusinessDateTemplates):
    """SQL templates of a daily run see ``window`` and ``business_date``."""

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        context["window"] = Window.for_context(context)
        super().render_template_fields(context, jinja_env)
        # SILVER, MODEL, GOLD, the checks: the transformer role (where task roles are on) and the
        # platform's session parameters (include/warehouse.py)
        self.hook_params = {**(self.hook_params or {}), **hook_params("transformer", query_tag=query_tag(context))}


DQ_RESULTS = "audit.DQ_RESULTS"  # every check task records its results there (record_results)


class _DeclaredLineage:
    """OpenLineage inputs and outputs from the transform graph.

    The provider's SQL operators parse their SQL and read the warehouse's information schema for
    it, and on completion ask Snowflake's query history for each query id; the task roles read
    neither (least privilege), and the graph already knows what each step reads and writes.
    """

    def _lineage_tables(self) -> tuple[set[str], set[str]]:
        """(reads, writes) as ``layer.NAME``."""
        from include.transform import graph

        found = graph.step(self.sql_template)  # type: ignore[attr-defined]
        return set(found.reads), set(found.writes)

    def _declared_lineage(self) -> Any:
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage
        from airflow.providers.openlineage.sqlparser import SQLParser

        hook = self.get_db_hook()  # type: ignore[attr-defined]
        namespace = SQLParser.create_namespace(
            hook.get_openlineage_database_info(hook.get_connection(hook.get_conn_id()))
        )
        reads, writes = self._lineage_tables()

        def datasets(tables: set[str]) -> list[Any]:
            return [
                Dataset(namespace=namespace, name=WAREHOUSE.qualified(*_schema_and_name(t))) for t in sorted(tables)
            ]

        return OperatorLineage(inputs=datasets(reads - writes), outputs=datasets(writes))

    def get_openlineage_facets_on_start(self) -> Any:
        return self._declared_lineage()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        lineage = self._declared_lineage()
        if getattr(self, "check_results", None):  # the checks' assertions, as the provider attaches them
            with _suppressed(Exception):
                lineage = self._attach_check_facets(lineage)  # type: ignore[attr-defined]
        return lineage


def _schema_and_name(table: str) -> tuple[str, str]:
    layer, name = table.split(".", 1)
    return getattr(WAREHOUSE, layer), name


def _rows_affected_handler(cursor: Any) -> list[tuple[int]]:
    return [(rows_affected(cursor),)]


class LayerSQLOperator(_DeclaredLineage, _RunWindowTemplates, SQLExecuteQueryOperator):
    """One object's SQL file for the run's window. The file is atomic (one MERGE, or begin ... commit)."""

    ui_color = "#cdaaed"

    def __init__(self, *, sql: str, **kwargs: Any) -> None:
        self.sql_template = sql  # the file, for the lineage (``sql`` becomes its rendered text)
        kwargs.setdefault("conn_id", SNOWFLAKE_CONN_ID)
        kwargs.setdefault("parameters", {"run_id": "{{ run_id }}"})
        super().__init__(
            sql=sql,
            split_statements=True,
            autocommit=True,  # the files open their own transaction where they need one
            handler=_rows_affected_handler,
            return_last=False,
            **kwargs,
        )

    def execute(self, context: Any) -> dict[str, Any]:
        results = super().execute(context) or []
        rows = [int(r[0][0]) for r in results if r]
        return {"rows_affected": rows, "query_ids": list(getattr(self._hook, "query_ids", []))}


def record_results(
    hook: Any, *, run_id: str, task_id: str, layer: str, run_business_date: date, results: Sequence[CheckResult]
) -> None:
    """Replace this task's results for the run in AUDIT.DQ_RESULTS (a retry does not add rows)."""
    table = WAREHOUSE.qualified(WAREHOUSE.audit, "DQ_RESULTS")
    with transaction(hook) as cur:
        cur.execute(
            f"delete from {table} where run_id = %(run_id)s and task_id = %(task_id)s",
            {"run_id": run_id, "task_id": task_id},
        )
        if results:
            cur.executemany(
                f"insert into {table} (run_id, layer, task_id, run_business_date, check_name, table_name, "
                "business_date, observed, threshold, passed, severity, detail) values (%(run_id)s, %(layer)s, "
                "%(task_id)s, %(run_business_date)s, %(check_name)s, %(table_name)s, %(business_date)s, "
                "%(observed)s, %(threshold)s, %(passed)s, %(severity)s, %(detail)s)",
                [
                    {
                        **asdict(r),
                        "business_date": r.business_date.isoformat(),
                        "run_id": run_id,
                        "task_id": task_id,
                        "layer": layer,
                        "run_business_date": run_business_date.isoformat(),
                    }
                    for r in results
                ],
            )


class _RecordsResults:
    """Record every result, log the warnings, fail (no retry: data does not heal) on a critical one."""

    layer: str
    task_id: str

    def _finish(self, context: Any, results: list[CheckResult]) -> dict[str, Any]:
        window = Window.for_context(context)
        record_results(
            self.get_db_hook(),  # type: ignore[attr-defined]
            run_id=context["run_id"],
            task_id=self.task_id,
            layer=self.layer,
            run_business_date=window.end,
            results=results,
        )
        for result in results:
            (log.warning if result.warning else log.info)(
                "%s %s", "WARNING" if result.warning else ("PASSED" if result.passed else "FAILED"), result.describe()
            )
        failures = [r for r in results if r.critical_failure]
        if failures:
            error = DataQualityError(self.task_id, window, failures)
            raise AirflowFailException(str(error)) from error
        return {
            "checks": len(results),
            "passed": sum(r.passed for r in results),
            "warnings": [r.describe() for r in results if r.warning],
        }


class DataQualityCheckOperator(_DeclaredLineage, _RunWindowTemplates, _RecordsResults, SQLCheckOperator):
    """A check file (``include/sql/dq/<layer>/<check>.sql``) returning one row per result:
    check_name, table_name, business_date, observed, threshold, passed, severity, detail.

    Unlike the plain ``SQLCheckOperator`` (one row, all truthy), every row is a result with its
    own severity: warnings are recorded and logged, critical failures fail the task.
    """

    ui_color = "#fff7e6"

    def __init__(self, *, sql: str, layer: str, **kwargs: Any) -> None:
        kwargs.setdefault("conn_id", SNOWFLAKE_CONN_ID)
        super().__init__(sql=sql, retry_on_failure=False, **kwargs)
        self.layer = layer
        self.sql_template = sql

    def _lineage_tables(self) -> tuple[set[str], set[str]]:
        reads, _ = super()._lineage_tables()
        return reads, {DQ_RESULTS}

    def execute(self, context: Any) -> dict[str, Any]:
        with one_connection(self.get_db_hook()) as hook:  # the check and its results: one login
            # the run's id: checks of the run's change set read it (include/sql/_changes.sql)
            rows = hook.get_records(self.sql, {**(self.parameters or {}), "run_id": context["run_id"]})
            if not rows:
                self._raise_exception(f"the check query returned no rows: {self.task_id}")
            results = [CheckResult.from_row(tuple(row)) for row in rows]
            self.check_results = [_as_sql_check_result(r) for r in results]  # for listeners (OpenLineage)
            return self._finish(context, results)


class RecordedColumnCheckOperator(_DeclaredLineage, _RunWindowTemplates, _RecordsResults, SQLColumnCheckOperator):
    """The provider's column checks; each column/check result is recorded with its column's declared
    severity (``severities``; critical unless declared otherwise): only a critical failure fails."""

    def _lineage_tables(self) -> tuple[set[str], set[str]]:
        from include.transform.graph import layer_of

        return {layer_of(self.table)}, {DQ_RESULTS}

    def __init__(self, *, layer: str, severities: dict[str, str] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("conn_id", SNOWFLAKE_CONN_ID)
        super().__init__(retry_on_failure=False, **kwargs)
        self.layer = layer
        self.severities = severities or {}

    def execute(self, context: Any) -> dict[str, Any]:
        with one_connection(self.get_db_hook()):  # the checks and their results: one login
            return self._check_and_record(context)

    def _check_and_record(self, context: Any) -> dict[str, Any]:
        (rows,) = self.get_db_hook().get_first(f"select count(*) from {self.table}")  # noqa: S608 - our table
        if not rows:
            # a build that covered no date (another run published everything this one would have):
            # nothing to check, which is a pass, recorded like the others
            business_date = Window.for_context(context).end
            return self._finish(
                context,
                [
                    CheckResult(f"{check}:{column}", self.table.split(".", 1)[-1], business_date, None, None, True,
                                "critical", f"{check}({column}): no rows built, nothing to check")
                    for column, checks in self.column_mapping.items()
                    for check in checks
                ],
            )  # fmt: skip
        try:
            super().execute(context)
        except Exception as exc:  # the provider raises after storing every check's result
            if not any("success" in v for checks in self.column_mapping.values() for v in checks.values()):
                raise  # the query itself failed: nothing to record
            log.info("column checks failed: %s", str(exc).splitlines()[0])
        business_date = Window.for_context(context).end
        results = [
            CheckResult(
                check_name=f"{check}:{column}",
                table_name=self.table.split(".", 1)[-1],
                business_date=business_date,
                observed=_number(values.get("result")),
                threshold=_number(_bound(values)),
                passed=bool(values.get("success")),
                severity=self.severities.get(column, "critical"),
                detail=f"{check}({column}) = {values.get('result')}, expected {_expectation(values)}",
            )
            for column, checks in self.column_mapping.items()
            for check, values in checks.items()
        ]
        return self._finish(context, results)


class GoldPublishOperator(LayerSQLOperator):
    """Publish GOLD_STAGE, but only this run's build, and only once its checks passed.

    The graph already runs publication after the checks; this also holds when someone marks a
    failed check task "success" by hand or when another run has built since (then GOLD_STAGE no
    longer holds this run's build: clear ``gold.build`` to build it again).
    """

    template_fields: Sequence[str] = (*LayerSQLOperator.template_fields, "guard_sql")
    template_ext: Sequence[str] = (".sql",)

    def __init__(self, *, guard_sql: str, expected_checks: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.guard_sql = guard_sql
        self.expected_checks = expected_checks

    def execute(self, context: Any) -> dict[str, Any]:
        row = self.get_db_hook().get_first(self.guard_sql)
        staged_run, _, _, recorded, failures = row if row else (None, None, None, 0, 0)
        if staged_run != context["run_id"]:
            raise AirflowFailException(
                f"GOLD_STAGE holds the build of run {staged_run!r}, not of this run: another run built since. "
                "Clear gold.build (with downstream) to build and check this run's GOLD again."
            )
        if int(failures or 0) or int(recorded or 0) < self.expected_checks:
            raise AirflowFailException(
                f"this run's GOLD build has {int(failures or 0)} failed critical check(s) and "
                f"{int(recorded or 0)} of {self.expected_checks} check tasks recorded since it was built: "
                "not publishing. "
                "See AUDIT.V_DQ_FAILURES; clear gold.build (with downstream) after the fix."
            )
        return super().execute(context)


def _as_sql_check_result(result: CheckResult) -> Any:
    from airflow.providers.common.sql.operators.sql import SQLCheckResult

    return SQLCheckResult(
        name=result.check_name,
        check_type=result.check_name,
        success=result.passed,
        severity="error" if result.severity == "critical" else "warn",
        table=result.table_name,
        expected=None if result.threshold is None else str(result.threshold),
        actual=None if result.observed is None else str(result.observed),
        description=result.detail,
    )


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _bound(values: dict[str, Any]) -> Any:
    for key in ("equal_to", "geq_to", "greater_than", "leq_to", "less_than"):
        if key in values:
            return values[key]
    return None


def _expectation(values: dict[str, Any]) -> str:
    words = {"equal_to": "=", "geq_to": ">=", "greater_than": ">", "leq_to": "<=", "less_than": "<"}
    return " and ".join(f"{words[k]} {v}" for k, v in values.items() if k in words) or "?"
