"""Secrets stay out of everything a run leaves behind.

Runs last, after every other module's DAG runs on the shared stack (ingestion with its alerts, an
S3 outage, failed checks, backfills, the churn model). The stack's connections carry passwords
and keys generated for this machine (``local/stack.py``); none of them may appear in a task log,
an Airflow service log, ``AUDIT.TASK_RUN_LOG``, ``DQ_RESULTS``, ``ALERT_LOG``, an alert mail, an XCom or a
rendered template field. Airflow masks a connection's password in task logs once the connection
is read; the rest is on the project's own messages and rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from include.config import WAREHOUSE

pytestmark = [pytest.mark.integration, pytest.mark.every_stack]

# the stand-ins' passwords and keys the DAG runs had in their connections and environment
SECRET_NAMES = ("s3_secret_key", "snowflake_password", "postgres_password", "jwt_secret")


@pytest.fixture(scope="module")
def secrets(stack: object) -> dict[str, str]:
    from local.stack import local_keys

    keys = {name: local_keys()[name] for name in SECRET_NAMES}
    assert all(len(v) >= 20 for v in keys.values()), "keys this short could match by chance"
    return keys


def _leaks(secrets: dict[str, str], where: str, text: str) -> list[str]:
    return [f"{name} in {where}" for name, value in secrets.items() if value in text]


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_no_secret_in_task_or_service_logs(secrets: dict[str, str]) -> None:
    from local.stack import AIRFLOW_HOME, LOGS

    task_logs, service_logs = _files(AIRFLOW_HOME / "logs"), _files(LOGS)
    assert len(task_logs) > 100, "the earlier modules' runs left too few task logs to prove anything"
    assert any(p.name.startswith("scheduler") for p in service_logs)
    leaks = [
        leak
        for path in task_logs + service_logs
        for leak in _leaks(secrets, str(path.relative_to(AIRFLOW_HOME.parent)), path.read_text(errors="replace"))
    ]
    assert leaks == []


def test_no_secret_in_the_audit_tables(secrets: dict[str, str]) -> None:
    from local import session

    hook = session.snowflake_hook()
    for table in ("TASK_RUN_LOG", "DQ_RESULTS", "ALERT_LOG"):
        rows = hook.get_records(f"select * from {WAREHOUSE.qualified(WAREHOUSE.audit, table)}")
        # the identity module empties the warehouse; no alert is due after it, so ALERT_LOG may be empty
        assert rows or table == "ALERT_LOG", f"AUDIT.{table} is empty: the scan would prove nothing"
        assert _leaks(secrets, f"AUDIT.{table}", repr(rows)) == []


def test_no_secret_in_alert_mails(secrets: dict[str, str]) -> None:
    from local import session

    mails = session.mails()
    assert len(mails) >= 3, "the ingestion module's alerts should be here"
    leaks = [leak for m in mails for leak in _leaks(secrets, f"mail {m['Subject']!r}", m.as_string())]
    assert leaks == []


def test_no_secret_in_xcoms_or_rendered_fields(secrets: dict[str, str]) -> None:
    import os

    from sqlalchemy import create_engine, text

    engine = create_engine(os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    try:
        with engine.connect() as db:
            xcoms = db.execute(text("select task_id, key, value::text from xcom")).all()
            rendered = db.execute(text("select task_id, rendered_fields::text from rendered_task_instance_fields"))
            rendered = rendered.all()
            confs = db.execute(text("select run_id, conf::text from dag_run")).all()
    finally:
        engine.dispose()
    assert xcoms and rendered, "no XComs or rendered fields: the scan would prove nothing"
    assert _leaks(secrets, "XComs", repr(xcoms)) == []
    assert _leaks(secrets, "rendered template fields", repr(rendered)) == []
    assert _leaks(secrets, "run confs", repr(confs)) == []
