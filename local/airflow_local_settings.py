"""Local-only Airflow settings: the local stack's patches of Airflow and provider internals.
Production never loads them: the image holds no local/ (Dockerfile), and this file,
when Airflow finds it on PYTHONPATH, does nothing unless ``RCT_LOCAL_PATCHES`` asks:

- ``RCT_LOCAL_PATCHES=all``: every patch below (the local stack, local/stack.py);
- ``RCT_LOCAL_PATCHES=snowflake_http``: only what the warehouse stand-in needs (docker-compose.yaml);
- a comma-separated list of names; unset or empty: nothing.

Every patch is **local-only**: one makes the provider reach the stand-in at all, the others save
time on two cores without changing what a task does. ``PATCHES`` lists each with its measured gain
and the private names it relies on; ``tests/unit/test_local_settings.py`` fails when one of those
names changes in the installed versions, and this file refuses to apply anything on an Airflow,
provider other than the ones it was written for (``WRITTEN_FOR``). Patches whose gain on a demo-scale
day was within the run-to-run spread were removed (docs/performance.md, 2026-12-06).

``RCT_PROFILE_TASKS=<folder>`` writes a CPU profile of every task process (benchmarks only).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The versions these patches were written and measured against.
WRITTEN_FOR = {
    "apache-airflow": "3.3.2",
    "apache-airflow-providers-snowflake": "6.20.0",
    "apache-airflow-providers-amazon": "9.39.0",
}


class UnsupportedVersion(RuntimeError):
    """An installed package is not the version the local patches were written for."""


def honour_snowflake_protocol_extra() -> None:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    if getattr(SnowflakeHook, "_rct_protocol_patch", False):
        return
    original = SnowflakeHook._add_network_config

    def _add_network_config(self: SnowflakeHook, conn_config: dict[str, Any], extra_dict: dict[str, Any]) -> None:
        original(self, conn_config, extra_dict)
        if extra_dict.get("protocol"):
            conn_config["protocol"] = extra_dict["protocol"]

    _add_network_config.__wrapped__ = original  # type: ignore[attr-defined]  # its signature, for the tests
    SnowflakeHook._add_network_config = _add_network_config  # type: ignore[method-assign]
    SnowflakeHook._rct_protocol_patch = True  # type: ignore[attr-defined]


def preload_task_imports() -> None:
    """Import what every task needs once, in the scheduler, before LocalExecutor forks workers.

    On a 2-core machine re-importing boto3 and the providers in each task process costs seconds
    of CPU per task; forked workers inherit these modules instead. Local stack only.
    """
    import airflow.providers.amazon.aws.hooks.s3  # noqa: F401
    import airflow.providers.amazon.aws.sensors.s3  # noqa: F401
    import airflow.providers.common.sql.operators.sql  # noqa: F401
    import airflow.providers.snowflake.hooks.snowflake  # noqa: F401
    import airflow.providers.standard.operators.python  # noqa: F401
    import airflow.providers.standard.sensors.python  # noqa: F401  - behind @task.sensor
    import snowflake.connector  # noqa: F401  - imports pandas and pyarrow: ~4 s per process

    # The project's own modules, which each task process would otherwise import while it parses
    # the DAG file (about a third of the parse), and the feed contract (YAML, cached per process).
    import include.airflow_common  # noqa: F401
    import include.alerts  # noqa: F401
    import include.audit  # noqa: F401
    import include.ingest.pipeline  # noqa: F401
    import include.ingest.sensors  # noqa: F401
    import include.transform.lock  # noqa: F401
    import include.transform.operators  # noqa: F401
    import include.warehouse  # noqa: F401
    from include.contracts import load_contract

    load_contract()
    _reimport_project_modules_when_edited()


def _newest_project_file() -> float:
    """The latest modification time among the project's imported modules and the feed contract."""
    import sys
    from pathlib import Path

    files = [getattr(m, "__file__", None) for n, m in list(sys.modules.items()) if n.split(".")[0] == "include"]
    files.append(str(Path(__file__).resolve().parents[1] / "include" / "contracts" / "feeds.yaml"))
    newest = 0.0
    for f in filter(None, files):
        try:
            newest = max(newest, os.stat(f).st_mtime)
        except OSError:
            newest = float("inf")
    return newest


def _reimport_project_modules_when_edited() -> None:
    """A forked worker or task process whose preloaded project code was edited since imports it again.

    Preloading ``include`` in the scheduler must not freeze a developer's edits until a restart:
    at each fork the child looks for a project file changed since the preload and, if there is
    one, drops every ``include`` module (and the task runner's plugins, which hold them) so the
    task imports the code as it is now.
    """
    import sys

    preloaded_at = time.time()

    def after_fork_in_child() -> None:
        if _newest_project_file() <= preloaded_at:
            return
        for name in [n for n in sys.modules if n.split(".")[0] in ("include", "retail_audit_listener")]:
            del sys.modules[name]
        from airflow.sdk import listener, plugins_manager

        listener.get_listener_manager.cache_clear()
        plugins_manager._get_plugins.cache_clear()

    os.register_at_fork(after_in_child=after_fork_in_child)


def preload_task_listeners() -> None:
    """The task runner's listener manager (our run-log plugin), built once before workers fork
    instead of loading the plugins in every task process. Local stack only."""
    from airflow.sdk.listener import get_listener_manager

    get_listener_manager()


# Seconds between the scheduler's checks for backfills whose runs have all finished (Airflow: a
# fixed 30 s). A new backfill of a DAG is refused until the previous one is marked complete, so
# tests and the demo, which backfill date after date, waited 15 s on average for each mark.
BACKFILL_COMPLETION_CHECK_SECONDS = 2.0


def prompt_backfill_completion() -> None:
    """Check for completed backfills every few seconds instead of every 30. Local stack only.

    The check is one indexed query; nothing else about the scheduler changes.
    """
    from airflow.utils.event_scheduler import EventScheduler

    if getattr(EventScheduler, "_rct_backfill_patch", False):
        return
    original = EventScheduler.call_regular_interval

    def call_regular_interval(self: EventScheduler, delay: float, action: Any, *args: Any, **kwargs: Any) -> None:
        if getattr(action, "__name__", "") == "_mark_backfills_complete":
            delay = min(delay, BACKFILL_COMPLETION_CHECK_SECONDS)
        return original(self, delay, action, *args, **kwargs)

    EventScheduler.call_regular_interval = call_regular_interval  # type: ignore[method-assign]
    EventScheduler._rct_backfill_patch = True  # type: ignore[attr-defined]


# How often a task's supervisor heartbeats (Airflow's default). Airflow 3.3 uses one setting,
# [workers] min_heartbeat_interval, both as the heartbeat interval and as the longest wait in
# select() between its checks that the task process has ended: when the process's sockets close a
# moment before it can be reaped, the finished task holds its slot for that whole wait.
HEARTBEAT_SECONDS = 5.0
EXIT_CHECK_SECONDS = 0.25


def notice_task_exit_promptly() -> None:
    """Check for a finished task process every quarter second, heartbeat every 5 s as by default.

    With the interval at 1 s (the earlier fix for the exit wait) every running task heartbeated
    every second: an API call and a metadata-database update each, most of the API server's CPU on
    the local stack. Local stack only.
    """
    from airflow.sdk.execution_time import supervisor

    if getattr(supervisor.ActivitySubprocess, "_rct_heartbeat_patch", False):
        return
    supervisor.MIN_HEARTBEAT_INTERVAL = EXIT_CHECK_SECONDS  # the select() wait
    original = supervisor.ActivitySubprocess._send_heartbeat_if_needed

    def _send_heartbeat_if_needed(self: Any) -> None:
        if time.monotonic() - self._last_heartbeat_attempt < HEARTBEAT_SECONDS:
            return
        original(self)

    supervisor.ActivitySubprocess._send_heartbeat_if_needed = _send_heartbeat_if_needed  # type: ignore[method-assign]
    supervisor.ActivitySubprocess._rct_heartbeat_patch = True  # type: ignore[attr-defined]


# DAG files a LocalExecutor worker parsed for the task processes it forks:
# (dag file, bundle path, bundle name) -> (when the parse began, the DagBag)
_WORKER_PARSES: dict[tuple[str, str | None, str | None], tuple[float, Any]] = {}


def _parse_key(kwargs: dict[str, Any]) -> tuple[str, str | None, str | None] | None:
    """The cache key of a DagBag built as a task process builds it (task_runner.parse), else None."""
    if kwargs.get("safe_mode") is not False or kwargs.get("load_op_links") is not False:
        return None
    bundle_path = kwargs.get("bundle_path")
    return os.fspath(kwargs["dag_folder"]), bundle_path and os.fspath(bundle_path), kwargs.get("bundle_name")


def _worker_parse(kwargs: dict[str, Any]) -> Any | None:
    """The worker's DagBag for these arguments, if nothing it was parsed from changed since."""
    key = _parse_key(kwargs)
    entry = _WORKER_PARSES.get(key) if key else None
    if entry is None:
        return None
    try:
        newest = max(_newest_project_file(), os.stat(kwargs["dag_folder"]).st_mtime)
    except OSError:
        return None
    return entry[1] if newest < entry[0] else None


def parse_for_children(**kwargs: Any) -> None:
    """Parse a DAG file in this (worker) process for the task processes it forks next."""
    from airflow.dag_processing import dagbag

    key = _parse_key(kwargs)
    if key is None or _worker_parse(kwargs) is not None:
        return
    started = time.time()
    bag = dagbag.BundleDagBag(**kwargs)
    if bag.import_errors:  # the task process parses it again and reports the error itself
        _WORKER_PARSES.pop(key, None)
        return
    bag._rct_parsed = True
    _WORKER_PARSES[key] = (started, bag)


def parse_dag_files_once_per_worker() -> None:
    """Each LocalExecutor worker parses a DAG file once (and again when it or project code
    changes), and the task processes it forks start from that parse instead of their own.

    Every task process parsed its DAG file: 0.5 s of each task's start on two busy cores (median
    of 472 tasks), about 0.15 s of CPU. The worker, which only supervises, now parses it just
    before it forks the task, into a cache its children inherit; a task process takes the DAG
    from there when nothing changed since. The child's copy is its own (copy-on-write), so what
    a task does to its DAG objects stays in that task. A failed parse in the worker changes
    nothing: the task parses the file itself and reports the error as it would. Local stack only.
    """
    from airflow.dag_processing import dagbag
    from airflow.sdk.execution_time import supervisor

    if getattr(supervisor.ActivitySubprocess, "_rct_parse_patch", False):
        return

    class CachedBundleDagBag(dagbag.BundleDagBag):  # type: ignore[misc, valid-type]
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            return (None if args else _worker_parse(kwargs)) or super().__new__(cls)

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if getattr(self, "_rct_parsed", False):
                return  # the worker's parse, handed over as it was
            super().__init__(*args, **kwargs)

    def parse_in_worker(dag_rel_path: Any, bundle_info: Any) -> None:
        from pathlib import Path

        from airflow.dag_processing.bundles.manager import DagBundlesManager

        bundle = DagBundlesManager().get_bundle(name=bundle_info.name, version=bundle_info.version)
        bundle.initialize()
        parse_for_children(
            dag_folder=os.fspath(Path(bundle.path, dag_rel_path)),
            safe_mode=False,
            load_op_links=False,
            bundle_path=bundle.path,
            bundle_name=bundle_info.name,
        )

    original_start = supervisor.ActivitySubprocess.start.__func__

    def start(cls: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            parse_in_worker(kwargs["dag_rel_path"], kwargs["bundle_info"])
        except Exception as exc:  # noqa: BLE001 - the task process parses the file itself then
            import logging

            logging.getLogger(__name__).info("DAG file not parsed in the worker: %s", exc)
        return original_start(cls, *args, **kwargs)

    start.__wrapped__ = original_start  # type: ignore[attr-defined]  # its signature, for the tests
    dagbag.BundleDagBag = CachedBundleDagBag
    supervisor.ActivitySubprocess.start = classmethod(start)  # type: ignore[method-assign, assignment]
    supervisor.ActivitySubprocess._rct_parse_patch = True  # type: ignore[attr-defined]


def profile_task_processes(folder: str) -> None:
    """``RCT_PROFILE_TASKS=<folder>``: a cProfile of every task process, written to the folder as
    ``<pid>.prof`` when the task ends (for profiling the per-task cost; off by default)."""
    from airflow.sdk.execution_time import task_runner

    original = task_runner.main

    def main() -> None:
        import cProfile

        profile = cProfile.Profile(time.process_time)  # CPU, not waiting
        profile.enable()
        try:
            original()
        finally:
            profile.disable()
            profile.dump_stats(os.path.join(folder, f"{os.getpid()}.prof"))

    task_runner.main = main


@dataclass(frozen=True)
class Patch:
    name: str
    apply: Callable[[], None]
    reason: str  # why, and what it measured
    relies_on: tuple[str, ...]  # "module:attribute.path" of the private names it needs


def preload() -> None:
    preload_task_imports()
    preload_task_listeners()


PATCHES: dict[str, Patch] = {
    patch.name: patch
    for patch in (
        Patch(
            "snowflake_http",
            honour_snowflake_protocol_extra,
            "the provider passes host and port but not protocol: without it nothing reaches the stand-in (http)",
            ("airflow.providers.snowflake.hooks.snowflake:SnowflakeHook._add_network_config",),
        ),
        Patch(
            "preload",
            preload,
            "task processes fork from a scheduler that imported the providers, the connector and the project: "
            "a demo-scale day 25-27 s with every patch, 47 s without this one (machine CPU 31-33 s, 74 s; 2026-12-06)",
            (
                "airflow.sdk.listener:get_listener_manager.cache_clear",
                "airflow.sdk.plugins_manager:_get_plugins.cache_clear",
            ),
        ),
        Patch(
            "worker_parse",
            parse_dag_files_once_per_worker,
            "a task's DAG parse fell from a median of 485 ms to 32 ms (2026-12-01): the worker parses once; "
            "a demo-scale day 28 s without it, machine CPU 37.6 s against 30.5-32.6 s (2026-12-06)",
            (
                "airflow.dag_processing.dagbag:BundleDagBag",
                "airflow.sdk.execution_time.supervisor:ActivitySubprocess.start",
                "airflow.dag_processing.bundles.manager:DagBundlesManager.get_bundle",
            ),
        ),
        Patch(
            "task_exit",
            notice_task_exit_promptly,
            "a finished task was noticed up to 5 s late (143 of 493 tasks): a demo-scale day 34 s without it, "
            "25-27 s with it (2026-12-06)",
            (
                "airflow.sdk.execution_time.supervisor:MIN_HEARTBEAT_INTERVAL",
                "airflow.sdk.execution_time.supervisor:ActivitySubprocess._send_heartbeat_if_needed",
            ),
        ),
        Patch(
            "backfill_completion",
            prompt_backfill_completion,
            "a new backfill waited 4-33 s for the scheduler's 30 s mark of the previous one; 2-3 s now. Nothing "
            "on a demo day (one backfill, whose runs it waits for); kept for the test tiers: 32 backfills, most "
            "waiting for the previous one's mark",
            (
                "airflow.utils.event_scheduler:EventScheduler.call_regular_interval",
                "airflow.jobs.scheduler_job_runner:SchedulerJobRunner._mark_backfills_complete",
            ),
        ),
    )
}


def requested() -> list[str]:
    """The patches ``RCT_LOCAL_PATCHES`` asks for."""
    wanted = [w.strip() for w in os.environ.get("RCT_LOCAL_PATCHES", "").split(",") if w.strip()]
    if wanted == ["all"]:
        return list(PATCHES)
    if unknown := [w for w in wanted if w not in PATCHES]:
        raise ValueError(f"RCT_LOCAL_PATCHES: unknown {unknown}; known: all, {', '.join(PATCHES)}")
    return wanted


def check_versions() -> None:
    """Refuse to patch internals of versions these patches were not written for."""
    from importlib.metadata import version

    wrong = {name: version(name) for name, expected in WRITTEN_FOR.items() if version(name) != expected}
    if wrong:
        raise UnsupportedVersion(
            "local/airflow_local_settings.py was written for "
            + ", ".join(f"{n} {WRITTEN_FOR[n]}" for n in wrong)
            + f" but finds {wrong}: check each patch's private names (tests/unit/test_local_settings.py), "
            "re-measure its gain, then update WRITTEN_FOR - or unset RCT_LOCAL_PATCHES"
        )


def apply(names: list[str]) -> None:
    if not names:
        return
    check_versions()
    for name in names:
        PATCHES[name].apply()


apply(requested())
if os.environ.get("RCT_PROFILE_TASKS"):
    profile_task_processes(os.environ["RCT_PROFILE_TASKS"])
