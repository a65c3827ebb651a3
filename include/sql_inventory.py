"""Every SQL statement the platform sends to Snowflake, by template: which role sends it and every
context it is rendered with.

One list, read by three readers:
- ``include/preflight.py`` compiles every statement of a daily run on an account (EXPLAIN as the
  role that runs it), before the first run;
- ``tests/unit/test_snowflake_grammar.py`` parses every variant with Snowflake's grammar;
- ``tests/unit/test_grants.py`` checks that each statement's role holds what it reads and writes.

A template nobody lists here fails ``test_every_template_is_in_the_inventory``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from include.config import WAREHOUSE
from include.sql_render import BOOTSTRAP_STEPS, SQL_DIR, render_sql, statements

# which role runs a template, by folder (docs/production.md#roles-and-grants); "owner": the
# set-up DAG; "admin": an account administrator
_ROLE_OF_FOLDER = {
    "silver": "transformer",
    "model": "transformer",
    "gold": "transformer",
    "dq": "transformer",
    "bronze": "loader",
    "ml": "ml",
    "control_tower": "control_tower",
    "bootstrap": "owner",
    "migrations": "owner",  # versioned scripts, run by the set-up's migrate task
    "security": "admin",
}
_AUDIT_TRANSFORMER = {"plan_change_set", "processed_without_gold"}
_AUDIT_LOADER = {"record_file", "file_already_loaded", "feed_date_ledger"}
# templates only the local history loader runs (never in production): rendered for the grammar
# gate, not compiled by the preflight
HISTORY_ONLY = {"bronze/load_history.sql", "bronze/register_history_partitions.sql"}
# the ML tables written through the ML stage (include/ml/registry.py replace_date_rows)
ML_DATE_TABLES = (
    "MODEL_METRICS",
    "MODEL_REGISTRY",
    "CUSTOMER_CHURN_SCORE",
    "CUSTOMER_FEATURE_SNAPSHOT",
    "MODEL_MONITORING",
)
_PARAM = re.compile(r"%\((\w+)\)s")


def role_of(template: str) -> str:
    """The role kind that runs ``template`` (a path below include/sql)."""
    folder, name = template.split("/")[0], template.rsplit("/", 1)[-1].removesuffix(".sql")
    if folder == "audit":
        if "transform_lock" in name or name in _AUDIT_TRANSFORMER:
            return "transformer"
        return "loader" if name in _AUDIT_LOADER else "run_logger"
    if "/" not in template:
        return "transformer"  # macros of the transform steps (_changes.sql)
    return _ROLE_OF_FOLDER[folder]


@dataclass(frozen=True)
class Rendering:
    """One template rendered one way: its statements as sent, with sample bind values."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    @property
    def role(self) -> str:
        return role_of(self.template)

    def statements(self) -> list[str]:
        return [s.strip().rstrip(";").strip() for s in statements(render_sql(self.template, **self.context))]

    def parameters(self, statement: str, business_date: date) -> dict[str, Any] | list[Any] | None:
        """Sample values for a statement's placeholders (what the task would bind)."""
        if "%s" in statement:
            return [business_date]
        names = _PARAM.findall(statement)
        return {n: _sample(n, business_date) for n in names} if names else None


def _sample(name: str, day: date) -> Any:
    """A value of the type the task binds for a placeholder of this name."""
    from datetime import datetime, time

    named: dict[str, Any] = {
        "scored_date": day - timedelta(days=90),
        "first": day - timedelta(days=29),
        "last": day,
        "day": day,
        "new_delivery": False,
        "duration_s": 1.5,
    }
    if name in named:
        return named[name]
    if name.endswith("_date"):
        return day
    if name.endswith("_at"):
        return datetime.combine(day, time(1, 0))
    if name.startswith("rows") or name in (
        "map_index",
        "try_number",
        "max_tries",
        "tries",
        "horizon_days",
        "lease_minutes",
        "stale_seconds",
    ):
        return -1 if name == "map_index" else 1
    return f"preflight_{name}"


def _window_renderings(template: str, day: date) -> list[Rendering]:
    from include.transform.window import Window

    return [
        Rendering(template, {"window": Window.for_run(day, lookback), "business_date": day}, f"lookback {lookback}")
        for lookback in (0, 3)
    ]


def daily_run(day: date) -> list[Rendering]:
    """What a daily run for ``day`` sends (every task's SQL, the audit writer's, the Control
    Tower's), in every variant a run can take."""
    from include.contracts import load_contract

    found: list[Rendering] = []
    for path in sorted(SQL_DIR.rglob("*.sql")):
        template = path.relative_to(SQL_DIR).as_posix()
        folder = template.split("/")[0]
        if folder in ("bootstrap", "security", "migrations") or template in HISTORY_ONLY or path.name.startswith("_"):
            continue
        if "window" in path.read_text():
            found += _window_renderings(template, day)
        elif template == "bronze/load_feed.sql":
            for feed in load_contract().feeds.values():
                staged = f"{feed.name}/{day:%Y%m%d}/{feed.name}_{day:%Y%m%d}.csv"
                for rejects in (None, f"{feed.name}/{day:%Y%m%d}/{feed.name}_{day:%Y%m%d}.rejects.csv"):
                    found.append(
                        Rendering(
                            template,
                            {"feed": feed, "batch_date": day, "staged_path": staged, "rejects_path": rejects},
                            f"{feed.name}, {'with' if rejects else 'no'} rejects",
                        )
                    )
        elif template == "ml/copy_date_rows.sql":
            found += [
                Rendering(template, {"table": t, "columns": ["business_date"], "staged_path": "t/f.csv"}, t)
                for t in ML_DATE_TABLES
            ]
        elif template == "ml/delete_date_rows.sql":
            found += [Rendering(template, {"table": t}, t) for t in ML_DATE_TABLES]
        elif template == "ml/scored_features.sql":
            found.append(Rendering(template, {"features": ["tenure_days", "segment"]}))
        elif template == "ml/scoring_features.sql":
            found += [
                Rendering(template, {"as_of": day, "active_days": 180, "from_gold": gold}, f"from_gold {gold}")
                for gold in (True, False)
            ]
        elif template == "ml/training_examples.sql":
            found.append(
                Rendering(template, {"cutoff": day - timedelta(days=90), "horizon_days": 90, "active_days": 180})
            )
        else:
            found.append(Rendering(template))
    return found


def every_variant(day: date) -> list[Rendering]:
    """Everything any part of the platform renders: a daily run's, the set-up's, the admin
    script's and the history loader's."""
    from include.contracts import FEED_NAMES, load_contract
    from include.migrations import scripts

    feed = next(iter(load_contract().feeds.values()))
    return [
        *daily_run(day),
        *(Rendering(f"bootstrap/{step}.sql") for step in BOOTSTRAP_STEPS),
        *(Rendering(f"migrations/{script.path.name}") for script in scripts()),
        Rendering("security/00_account_admin.sql"),
        Rendering("security/roles_and_grants.sql"),
        Rendering("bronze/load_history.sql", {"feed": feed, "staged_path": "history/f.csv"}),
        Rendering("bronze/register_history_partitions.sql", {"feeds": list(FEED_NAMES), "days": [day, day]}),
    ]


def templates() -> set[str]:
    """Every template file (the partials, ``_*.sql``, are part of the templates that include them)."""
    return {p.relative_to(SQL_DIR).as_posix() for p in SQL_DIR.rglob("*.sql") if not p.name.startswith("_")}


def interpolated(statement: str, parameters: dict[str, Any] | list[Any] | None) -> str:
    """The statement as the connector sends it: its bind values interpolated client-side, as
    ``paramstyle = pyformat`` does (what the stand-in and Snowflake receive)."""
    if not parameters:
        return statement
    from snowflake.connector.converter import SnowflakeConverter

    converter = SnowflakeConverter()

    def quoted(value: Any) -> Any:
        return converter.quote(converter.escape(converter.to_snowflake(value)))

    if isinstance(parameters, dict):
        return statement % {k: quoted(v) for k, v in parameters.items()}
    return statement % tuple(quoted(v) for v in parameters)


def sent(day: date, renderings: list[Rendering] | None = None) -> Iterator[tuple[Rendering, str]]:
    """(rendering, statement as sent) for every statement of ``renderings`` (default: every variant)."""
    for rendering in renderings if renderings is not None else every_variant(day):
        for statement in rendering.statements():
            yield rendering, interpolated(statement, rendering.parameters(statement, day))


def qualified(name: str) -> str:
    return WAREHOUSE.qualified(*name.split(".", 1))
