"""Every command the project hands a person, built in one place.

The FAILED and LATE-file alerts, the demo's summary and the runbooks' examples come from here:
the alerts and the demo call these functions; the Markdown runbooks, the README and the DAG's
``doc_md`` may only show the :data:`DOCUMENTED` templates (``tests/unit/test_operator_commands.py``
checks every command line in them). ``tests/integration/test_operator_commands.py`` executes each
of them against the private stack and asserts its effect, so a command that stops doing what it
says fails a test, not an on-call engineer at night.

What Airflow 3.3's CLI does, which these commands rely on (each checked by that test):

- ``airflow tasks clear -t X`` selects the tasks whose id *contains* ``X`` as plain text
  (``partial_subset`` with a string), although ``--help`` still says "regex": the anchored,
  escaped pattern these alerts used to give (``'^model_checks\\.orphans$'``) selected nothing and
  the command exited 0. The pattern is therefore the task id itself, given only when no other
  task id of the DAG contains it.
- ``-s``/``-e`` bound the runs' *logical date* (both inclusive), not the business date param.
  The clear command uses the failed run's own logical date for both, so it acts on that run
  alone. A run without a logical date cannot be selected by the CLI: only the REST call (by run
  id) or the UI can clear it.
- ``airflow backfill create --from-date D --to-date D`` makes (or, with ``--reprocess-behavior``,
  re-runs) the run with logical date D, whose business date is D (docs/architecture.md).
- ``airflow dags trigger --logical-date D`` makes the run with logical date D: business date D.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from include.config import DAILY_DAG_ID

DAG_ID = DAILY_DAG_ID

# What the runbooks, the README and the DAG's doc_md may show (placeholders in angle brackets):
# each is executed with its placeholders filled by tests/integration/test_operator_commands.py.
DOCUMENTED: dict[str, str] = {
    "clear_task": "airflow tasks clear retail_daily -t <task id> -s <logical date> -e <logical date> --downstream -y",
    "clear_feed": "airflow tasks clear retail_daily -t ingest_<feed>. -s <logical date> -e <logical date> "
    "--downstream -y",
    "backfill": "airflow backfill create --dag-id retail_daily --from-date <first date> --to-date <last date> "
    "--reprocess-behavior <reprocess>",
    "backfill_backwards": "airflow backfill create --dag-id retail_daily --from-date <first date> "
    "--to-date <last date> --reprocess-behavior <reprocess> --run-backwards",
    "trigger": "airflow dags trigger retail_daily --logical-date <date>",
    "full_rebuild": "airflow backfill create --dag-id retail_daily --from-date <date> --to-date <date> "
    "--reprocess-behavior completed --dag-run-conf '{\"lookback_days\": 3660}'",
}

# docs/production.md "First deploy on Snowflake", in order: executed as written, in that order, by
# tests/integration/test_first_deploy.py
FIRST_DEPLOY: tuple[str, ...] = (
    "python -m include.snowflake_admin prepare",
    "airflow dags trigger retail_warehouse_setup",
    "python -m include.preflight",
)


class NoCliCommand(ValueError):
    """The CLI cannot select exactly this task of exactly this run; use the REST call or the UI."""


def clear_pattern(task_id: str, task_ids: Iterable[str]) -> str:
    """The ``tasks clear -t`` text that selects ``task_id`` and no other task of the DAG."""
    others = [t for t in task_ids if t != task_id and task_id in t]
    if others:
        raise NoCliCommand(f"{task_id!r} is also part of {sorted(others)[:3]}: the CLI would clear those too")
    return task_id


def clear_task(dag_id: str, task_id: str, logical_date: datetime | None, task_ids: Iterable[str]) -> str:
    """``airflow tasks clear`` of one task and its downstream in the one run with ``logical_date``."""
    if logical_date is None:
        raise NoCliCommand("the run has no logical date: the CLI cannot select it")
    when = logical_date.isoformat()
    pattern = clear_pattern(task_id, task_ids)
    return f"airflow tasks clear {dag_id} -t {shlex.quote(pattern)} -s {when} -e {when} --downstream -y"


def clear_task_api(api_base: str, dag_id: str, run_id: str, task_id: str) -> str:
    """The REST call the UI's *Clear (with Downstream)* makes: by run id, so it works for any run.

    ``AIRFLOW_API_TOKEN`` is a token from ``POST <api>/auth/token`` (docs/runbooks/on-call.md).
    """
    body = json.dumps(
        {
            "dag_run_id": run_id,
            "task_ids": [task_id],
            "include_downstream": True,
            "only_failed": False,
            "dry_run": False,
        }
    )
    url = f"{api_base.rstrip('/')}/api/v2/dags/{dag_id}/clearTaskInstances"
    return (
        f'curl -sS --fail-with-body -X POST {shlex.quote(url)} -H "Authorization: Bearer $AIRFLOW_API_TOKEN" '
        f"-H 'Content-Type: application/json' -d {shlex.quote(body)}"
    )


def backfill(
    dag_id: str,
    first: date,
    last: date,
    *,
    reprocess: str = "failed",
    conf: dict[str, Any] | None = None,
    backwards: bool = False,
) -> str:
    """``airflow backfill create`` for business dates ``first``..``last`` (one run each)."""
    if reprocess not in ("none", "failed", "completed"):
        raise ValueError(f"reprocess must be none, failed or completed, not {reprocess!r}")
    command = (
        f"airflow backfill create --dag-id {dag_id} --from-date {first.isoformat()} --to-date {last.isoformat()} "
        f"--reprocess-behavior {reprocess}"
    )
    if conf:
        command += f" --dag-run-conf {shlex.quote(json.dumps(conf, sort_keys=True))}"
    if backwards:
        command += " --run-backwards"
    return command


def trigger(dag_id: str, day: date) -> str:
    """``airflow dags trigger`` of one business date."""
    return f"airflow dags trigger {dag_id} --logical-date {day.isoformat()}"


def fill(template: str, **values: str) -> str:
    """A :data:`DOCUMENTED` template with its placeholders filled (``first_date`` for ``<first date>``)."""
    out = template
    for name, value in values.items():
        out = out.replace(f"<{name.replace('_', ' ')}>", value)
    if "<" in out:
        raise ValueError(f"unfilled placeholder in {out!r}")
    return out
