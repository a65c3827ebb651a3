"""The commands handed to operators and on-call select what they say (include/operator_commands.py).

Two kinds of checks, both fast: every ``airflow ...`` command the docs, the README and the DAG's
``doc_md`` show is one of the executed templates; and the task selection of every clear command
is Airflow's own (``partial_subset`` of the serialized ``retail_daily``, which the CLI calls), so
an Airflow upgrade that changes how ``-t`` matches fails here. The integration test
``tests/integration/test_operator_commands.py`` runs the commands on the private stack.
"""

from __future__ import annotations

import ast
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from include import operator_commands as commands

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"<[^>]+>")


def _template_regex(template: str) -> re.Pattern[str]:
    """A template as a regex: each placeholder stands for itself or one filled-in word."""
    parts = PLACEHOLDER.split(template)
    holes = r"(?:<[^>]+>|\S+)"
    return re.compile(holes.join(re.escape(p) for p in parts))


def _documented_commands() -> list[tuple[str, str]]:
    """(where, command) for every ``airflow`` CLI command in the Markdown docs, the README and the
    DAG files' docstrings: inline code spans and lines of fenced blocks (continuations joined,
    trailing ``# comments`` dropped)."""
    sources = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    texts = [(str(p.relative_to(REPO)), p.read_text()) for p in sources]
    for dag_file in sorted((REPO / "dags").glob("*.py")):
        doc = ast.get_docstring(ast.parse(dag_file.read_text())) or ""
        texts.append((str(dag_file.relative_to(REPO)), doc))
    found = []
    for where, text in texts:
        text = text.replace("\\\n", " ")
        candidates = re.findall(r"`(airflow [^`]+)`", text)
        candidates += [
            line.split("  #")[0].strip() for line in text.splitlines() if line.strip().startswith("airflow ")
        ]
        found += [(where, re.sub(r"\s+", " ", c).strip()) for c in candidates]
    return found


def test_every_documented_airflow_command_is_an_executed_template() -> None:
    templates = {name: _template_regex(t) for name, t in commands.DOCUMENTED.items()}
    documented = _documented_commands()
    assert len(documented) >= 5, "the runbooks' commands were not found: did the scan break?"
    unknown = [
        (where, command)
        for where, command in documented
        if not any(regex.fullmatch(command) for regex in templates.values())
        and command not in ("airflow tasks clear",)  # prose naming the command, not a command
        and command not in commands.FIRST_DEPLOY  # executed by tests/integration/test_first_deploy.py
    ]
    assert not unknown, (
        "commands shown to people must be templates of include/operator_commands.DOCUMENTED "
        f"(each is executed by tests/integration/test_operator_commands.py): {unknown}"
    )


def test_the_templates_are_what_the_builders_write() -> None:
    day, other = date(2026, 10, 12), date(2026, 10, 14)
    dates = {"first_date": str(day), "last_date": str(other), "reprocess": "completed"}
    assert commands.backfill("retail_daily", day, other, reprocess="completed") == commands.fill(
        commands.DOCUMENTED["backfill"], **dates
    )
    assert commands.backfill("retail_daily", day, other, reprocess="completed", backwards=True) == commands.fill(
        commands.DOCUMENTED["backfill_backwards"], **dates
    )
    assert commands.backfill(
        "retail_daily", day, day, reprocess="completed", conf={"lookback_days": 3660}
    ) == commands.fill(commands.DOCUMENTED["full_rebuild"], date=str(day))
    assert commands.trigger("retail_daily", day) == commands.fill(commands.DOCUMENTED["trigger"], date=str(day))
    logical = datetime(2026, 10, 12, tzinfo=UTC)
    assert commands.clear_task("retail_daily", "gold.build", logical, ["gold.build"]) == commands.fill(
        commands.DOCUMENTED["clear_task"], task_id="gold.build", logical_date=logical.isoformat()
    )
    with pytest.raises(ValueError, match="unfilled"):
        commands.fill(commands.DOCUMENTED["trigger"])


@pytest.fixture(scope="module")
def serialized_daily(tmp_path_factory: pytest.TempPathFactory):
    """retail_daily as the CLI and the API server see it (serialized), parsed without a stack."""
    home = tmp_path_factory.mktemp("airflow_home")
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith(("AIRFLOW_CONN_", "AIRFLOW__")):
            del os.environ[key]
    os.environ.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
    )
    try:
        from airflow.dag_processing.dagbag import DagBag
        from airflow.serialization.serialized_objects import DagSerialization

        dag = DagBag(dag_folder=str(REPO / "dags"), safe_mode=False).dags["retail_daily"]
        yield DagSerialization.from_dict(DagSerialization.to_dict(dag))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _descendants(dag, task_id: str) -> set[str]:
    out, frontier = set(), [task_id]
    while frontier:
        for child in dag.get_task(frontier.pop()).downstream_task_ids:
            if child not in out:
                out.add(child)
                frontier.append(child)
    return out


def test_every_clear_pattern_selects_its_task_and_what_depends_on_it(serialized_daily) -> None:
    """What `airflow tasks clear -t <pattern> --downstream` selects, for every task of the DAG."""
    dag = serialized_daily
    for task_id in dag.task_ids:
        pattern = commands.clear_pattern(task_id, dag.task_ids)
        selected = set(dag.partial_subset(pattern, include_downstream=True, include_upstream=False).task_ids)
        expected = {task_id} | _descendants(dag, task_id)
        setups = {t for t in selected - expected if dag.get_task(t).is_setup or dag.get_task(t).is_teardown}
        assert selected - setups == expected, task_id


def test_an_anchored_regex_selects_nothing_in_this_airflow(serialized_daily) -> None:
    """Issue 36: the alerts gave `-t '^model_checks\\.orphans$'`, which this Airflow matches as
    plain text: nothing was cleared and the command exited 0. If this starts failing, Airflow
    matches -t differently again: check include/operator_commands.clear_pattern."""
    dag = serialized_daily
    assert dag.partial_subset(r"^model_checks\.orphans$", include_downstream=True).task_ids == []
    assert "model_checks.orphans" in dag.partial_subset("model_checks.orphans", include_downstream=True).task_ids


def test_a_task_id_inside_another_gets_no_cli_command() -> None:
    with pytest.raises(commands.NoCliCommand, match="silver.orders_archive"):
        commands.clear_pattern("silver.orders", ["silver.orders", "silver.orders_archive"])
    with pytest.raises(commands.NoCliCommand, match="no logical date"):
        commands.clear_task("retail_daily", "gold.build", None, ["gold.build"])
