"""The local stack's patches (local/airflow_local_settings.py): applied only when asked, only on the
versions they were written for, relying on private names that still exist, and changing costs,
not answers."""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import time
from pathlib import Path

import airflow_local_settings as local_settings  # on the test path, as on the stack's PYTHONPATH
import pytest

# the patches under test, as the local stack applies them (RCT_LOCAL_PATCHES=all)
local_settings.apply(list(local_settings.PATCHES))


@pytest.mark.parametrize(
    "name", [n for p in local_settings.PATCHES.values() for n in p.relies_on], ids=lambda n: n.split(":")[-1]
)
def test_every_private_name_a_patch_relies_on_exists_in_the_installed_versions(name: str) -> None:
    """Fails when an upgrade renames or removes what a patch replaces: the patch would break, or
    (patching by name) go inert without a word."""
    module, _, path = name.partition(":")
    target = importlib.import_module(module)
    for part in path.split("."):
        instance = part.endswith("()")  # an instance attribute: look on an instance
        part = part.removesuffix("()")
        assert hasattr(target, part), f"{name}: {part} is gone"
        target = getattr(target, part)() if instance else getattr(target, part)


def test_the_backfill_patch_still_finds_the_scheduler_scheduling_its_backfill_check() -> None:
    """The patch recognises the scheduler's call by the action's name: the call must still exist."""
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner

    source = inspect.getsource(SchedulerJobRunner)
    assert "call_regular_interval" in source and "self._mark_backfills_complete," in source


def test_the_patched_methods_keep_the_signatures_they_were_written_for() -> None:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook
    from airflow.sdk.execution_time import supervisor

    # inspect.signature follows the patches' __wrapped__ to the methods they replace
    for method, parameters in (
        (SnowflakeHook._add_network_config, {"self", "conn_config", "extra_dict"}),
        (supervisor.ActivitySubprocess.start, {"dag_rel_path", "bundle_info"}),  # the patch reads both by name
    ):
        assert parameters <= set(inspect.signature(method).parameters), method


def test_nothing_is_patched_unless_asked_and_never_on_another_version(monkeypatch) -> None:
    monkeypatch.delenv("RCT_LOCAL_PATCHES", raising=False)
    assert local_settings.requested() == []
    monkeypatch.setenv("RCT_LOCAL_PATCHES", "all")
    assert local_settings.requested() == list(local_settings.PATCHES)
    monkeypatch.setenv("RCT_LOCAL_PATCHES", "snowflake_http, nonsense")
    with pytest.raises(ValueError, match="unknown"):
        local_settings.requested()
    monkeypatch.setitem(local_settings.WRITTEN_FOR, "apache-airflow", "3.2.0")
    with pytest.raises(local_settings.UnsupportedVersion, match="written for apache-airflow 3.2.0"):
        local_settings.apply(["snowflake_http"])
    local_settings.apply([])  # nothing asked: no version check, nothing applied


def test_a_task_supervisor_heartbeats_every_5_s_and_checks_for_the_exit_every_quarter_second() -> None:
    from airflow.sdk.execution_time import supervisor

    assert supervisor.MIN_HEARTBEAT_INTERVAL == local_settings.EXIT_CHECK_SECONDS

    class Supervised:
        _terminal_state = None
        client = None  # a heartbeat would fail on this

        def __init__(self, last_attempt: float) -> None:
            self._last_heartbeat_attempt = last_attempt

    supervisor.ActivitySubprocess._send_heartbeat_if_needed(Supervised(time.monotonic() - 1))  # too soon: nothing
    with pytest.raises(AttributeError):  # due: it tries the client
        supervisor.ActivitySubprocess._send_heartbeat_if_needed(Supervised(time.monotonic() - 6))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_task_imports_project_code_edited_after_the_preload_again() -> None:
    import include.config

    def loaded_in_child() -> bool:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: is the preloaded module still there?
            os.write(write, b"1" if "include.config" in sys.modules else b"0")
            os._exit(0)
        os.close(write)
        answer = os.read(read, 1)
        os.waitpid(pid, 0)
        os.close(read)
        return answer == b"1"

    source = Path(include.config.__file__)
    before = source.stat()
    assert loaded_in_child(), "unchanged code stays preloaded"
    try:
        os.utime(source, (before.st_atime, time.time() + 60))  # as if edited just now
        assert not loaded_in_child(), "edited code is imported again"
    finally:
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert "include.config" in sys.modules  # the parent keeps its modules


def test_a_task_process_starts_from_its_workers_parse_until_the_dag_file_changes(tmp_path: Path) -> None:
    from airflow.dag_processing import dagbag

    repo_dags = Path(__file__).resolve().parents[2] / "dags"
    dag_file = tmp_path / "retail_daily.py"
    dag_file.write_text((repo_dags / "retail_daily.py").read_text())
    args = {
        "dag_folder": str(dag_file),
        "safe_mode": False,
        "load_op_links": False,
        "bundle_path": str(tmp_path),
        "bundle_name": "dags-folder",
    }
    local_settings.parse_for_children(**args)
    workers = local_settings._WORKER_PARSES[local_settings._parse_key(args)][1]
    assert "retail_daily" in workers.dags

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a task process forked after the worker's parse: the same DagBag, no parse of its own
        bag = dagbag.BundleDagBag(**args)
        os.write(write, b"1" if bag is workers and "retail_daily" in bag.dags else b"0")
        os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"

    os.utime(dag_file, (time.time(), time.time() + 60))  # edited after the worker's parse
    fresh = dagbag.BundleDagBag(**args)
    assert fresh is not workers and "retail_daily" in fresh.dags
    other = dagbag.BundleDagBag(**{**args, "safe_mode": True})  # not built as a task builds it
    assert other is not workers
