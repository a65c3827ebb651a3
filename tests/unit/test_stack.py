"""The local stack manager says clearly what went wrong and cleans up after itself."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from local import stack


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("LOGS", "PIDS"):
        (tmp_path / name).mkdir()
        monkeypatch.setattr(stack, name, tmp_path / name)
    return tmp_path


def test_a_port_in_use_is_a_clear_error(state: Path) -> None:
    with socket.socket() as busy:
        busy.bind((stack.HOST, 0))
        busy.listen()
        port = busy.getsockname()[1]
        service = stack.Service("s3", lambda: [sys.executable, "-c", "pass"], lambda: False, port)
        with pytest.raises(stack.StackError, match=f"port {port} for s3 is in use.*RCT_S3_PORT"):
            stack._start(service, {})
    assert not (state / "PIDS" / "s3.pid").exists(), "nothing was started"


def test_a_service_that_dies_on_start_reports_its_log(state: Path) -> None:
    code = "import sys; print('cannot open the database'); sys.exit(3)"
    service = stack.Service("snowflake", lambda: [sys.executable, "-c", code], lambda: False, None, boot_seconds=30)
    with pytest.raises(stack.StackError, match=r"(?s)snowflake exited with code 3.*cannot open the database"):
        stack._start(service, {})


def test_start_then_stop_leaves_no_process(state: Path) -> None:
    marker = state / "up"
    code = f"import pathlib, time; pathlib.Path({str(marker)!r}).touch(); time.sleep(60)"
    service = stack.Service("smtp", lambda: [sys.executable, "-c", code], marker.exists, None, boot_seconds=30)
    stack._start(service, {})
    pid = stack._pid(service)
    assert pid is not None and stack._alive(pid)
    stack._start(service, {})  # idempotent: already running
    assert stack._pid(service) == pid
    stack._stop(service)
    assert not stack._alive(pid)
    assert stack._pid(service) is None
    stack._stop(service)  # idempotent: nothing to stop


def test_a_failed_test_s_report_gets_the_warnings_its_services_logged_meanwhile(state: Path) -> None:
    scheduler, postgres = state / "LOGS" / "scheduler.log", state / "LOGS" / "postgres.log"
    scheduler.write_text("2026-12-03 10:00:00 [warning  ] an old warning [x]\n")
    sizes = stack.log_sizes()
    with scheduler.open("a") as log:
        log.write("2026-12-03 10:00:01 [info     ] a run started [x]\n")
        log.write("2026-12-03 10:00:02 [warning  ] audit write failed (1 in this process) for dag run r1 [x]\n")
    postgres.write_text("2026-12-03 10:00:03 UTC [7] ERROR:  relation does not exist\nLOG:  checkpoint\n")
    assert stack.log_problems_since(sizes).splitlines() == [
        "postgres: 2026-12-03 10:00:03 UTC [7] ERROR:  relation does not exist",  # a log begun meanwhile
        "scheduler: 2026-12-03 10:00:02 [warning  ] audit write failed (1 in this process) for dag run r1 [x]",
    ]


def test_a_file_dropped_into_the_bucket_folder_is_listed_within_seconds(state: Path, monkeypatch) -> None:
    """The demo prints the bucket's folder; a file an on-call drill drops there by hand must reach
    the sensors before the validate task's retries run out (rclone's directory cache: 5 minutes)."""
    import time

    import boto3

    with socket.socket() as free:
        free.bind((stack.HOST, 0))
        port = free.getsockname()[1]
    root = state / "s3"
    (root / "retail-landing" / "inbox").mkdir(parents=True)
    monkeypatch.setattr(stack, "S3_ROOT", root)
    monkeypatch.setitem(stack.PORTS, "s3", port)
    keys = {"s3_access_key": "localkey", "s3_secret_key": "localsecret"}  # pragma: allowlist secret
    monkeypatch.setattr(stack, "local_keys", lambda: keys)
    (service,) = [s for s in stack.SERVICES if s.name == "s3"]
    stack._start(service, {})
    try:
        client = boto3.client(
            "s3", endpoint_url=f"http://{stack.HOST}:{port}", aws_access_key_id="localkey",
            aws_secret_access_key="localsecret", region_name="us-east-1",  # noqa: S106  # pragma: allowlist secret
        )  # fmt: skip
        assert client.list_objects_v2(Bucket="retail-landing", Prefix="inbox/").get("KeyCount", 0) == 0
        (root / "retail-landing" / "inbox" / "orders_20261201.csv").write_text("order_id\n1\n")
        deadline = time.monotonic() + 4 * stack.S3_DIR_CACHE_SECONDS + 2
        while time.monotonic() < deadline:
            if client.list_objects_v2(Bucket="retail-landing", Prefix="inbox/").get("KeyCount", 0):
                break
            time.sleep(0.25)
        else:
            raise AssertionError("the hand-dropped file was not listed")
    finally:
        stack._stop(service)
