"""The local stack's speed settings (local/airflow_local_settings.py) change costs, not answers."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import airflow_local_settings as local_settings  # on the test path, as on the stack's PYTHONPATH
import pytest


def test_the_aws_caller_lookup_names_the_operator_on_the_stack() -> None:
    from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook

    assert AwsGenericHook._rct_caller_patch

    class LoadPartnerFile:
        def execute(self) -> tuple[str | None, str | None]:
            return AwsGenericHook._find_operator_class_name("execute"), AwsGenericHook._find_operator_class_name("poke")

    assert LoadPartnerFile().execute() == ("LoadPartnerFile", None)
    assert AwsGenericHook._find_operator_class_name("execute") is None  # no execute() on this stack


def test_boto3_sessions_share_the_parsed_service_models() -> None:
    import boto3

    first = boto3.session.Session(region_name="us-east-1")._session.get_component("data_loader")
    second = boto3.session.Session(region_name="us-east-1")._session.get_component("data_loader")
    assert first is not second and first._cache is second._cache
    client = boto3.session.Session(region_name="us-east-1").client("s3", endpoint_url="http://127.0.0.1:1")
    assert client.meta.service_model.service_name == "s3"
    assert "GetObject" in client.meta.service_model.operation_names


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


def test_a_task_tells_its_supervisor_each_secret_to_mask_once() -> None:
    import socket
    import threading

    import msgspec
    from airflow.sdk.execution_time import comms

    assert comms.CommsDecoder._rct_mask_patch
    task_end, supervisor_end = socket.socketpair()
    received: list[dict] = []

    def supervise() -> None:  # answers every request frame, as the supervisor does
        decoder = msgspec.msgpack.Decoder(comms._RequestFrame)
        while length := supervisor_end.recv(4):
            body = b""
            while len(body) < int.from_bytes(length, "big"):
                body += supervisor_end.recv(int.from_bytes(length, "big") - len(body))
            frame = decoder.decode(body)
            received.append(frame.body)
            supervisor_end.sendall(comms._ResponseFrame(id=frame.id).as_bytes())

    thread = threading.Thread(target=supervise, daemon=True)
    thread.start()
    decoder = comms.CommsDecoder(socket=task_end)
    try:
        masks = [("s3cr3t-pw", "password"), ("s3cr3t-pw", "password"), ("k3y", None), ("s3cr3t-pw", "other")]
        for value, name in masks:
            decoder.send(comms.MaskSecret(value=value, name=name))
        decoder.send(comms.GetVariable(key="x"))
        decoder.send(comms.GetVariable(key="x"))  # only masks are deduplicated
    finally:
        task_end.close()
        thread.join(5)
        supervisor_end.close()
    sent = [(body["value"], body["name"]) for body in received if body["type"] == "MaskSecret"]
    assert sent == [("s3cr3t-pw", "password"), ("k3y", None), ("s3cr3t-pw", "other")]
    assert [body["key"] for body in received if body["type"] == "GetVariable"] == ["x", "x"]
