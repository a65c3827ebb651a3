"""A small client for the local Airflow's REST API (v2), used by the demo and the tests.

The CLI re-imports Airflow on every call (seconds each on two cores); the API answers at once.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import date
from typing import Any

from local.stack import AIRFLOW_HOME, HOST, PORTS

TERMINAL = {"success", "failed"}


class AirflowAPI:
    def __init__(self, base: str | None = None) -> None:
        self.base = base or f"http://{HOST}:{PORTS['airflow']}"
        self._token: str | None = None

    def _login(self, user: str = "admin") -> str:
        """An API token of one of the stack's users (its generated password)."""
        password = json.loads((AIRFLOW_HOME / "passwords.json").read_text())[user]
        body = json.dumps({"username": user, "password": password}).encode()
        req = urllib.request.Request(f"{self.base}/auth/token", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - http on loopback
            return json.load(resp)["access_token"]

    def request(self, method: str, path: str, body: Any = None) -> Any:
        if self._token is None:
            self._token = self._login()
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"}
        req = urllib.request.Request(f"{self.base}/api/v2{path}", data, headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - http on loopback
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(
                f"{method} {path}: HTTP {exc.code}: {exc.read().decode(errors='replace')[:500]}"
            ) from None
        return json.loads(raw) if raw else None

    # ------------------------------------------------------------------ DAGs and runs
    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Wait until the dag-processor has parsed ``dag_id``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.request("GET", f"/dags/{dag_id}")
                return
            except RuntimeError as exc:
                if "HTTP 404" not in str(exc):
                    raise
            time.sleep(2)
        errors = "; ".join(f"{e['filename']}: {e['stack_trace'][-300:]}" for e in self.import_errors())
        raise TimeoutError(f"DAG {dag_id} was not parsed within {timeout}s. Import errors: {errors or 'none'}")

    def import_errors(self) -> list[dict[str, Any]]:
        return self.request("GET", "/importErrors")["import_errors"]

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.request("PATCH", f"/dags/{dag_id}", {"is_paused": paused})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run = self.request("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}})
        return run["dag_run_id"]

    def backfill(
        self,
        dag_id: str,
        start: date,
        end: date,
        max_active_runs: int = 2,
        reprocess: str = "completed",
        conf: dict[str, Any] | None = None,
        run_backwards: bool = False,
    ) -> int:
        """Create a backfill over business dates [start, end]; returns its id."""
        body = {
            "dag_id": dag_id,
            "from_date": f"{start.isoformat()}T00:00:00Z",
            "to_date": f"{end.isoformat()}T00:00:00Z",
            "max_active_runs": max_active_runs,
            "reprocess_behavior": reprocess,
            "dag_run_conf": conf or {},
            "run_backwards": run_backwards,
        }
        return self.request("POST", "/backfills", body)["id"]

    def wait_for_backfill(self, backfill_id: int, timeout: float, check: Any = None) -> dict[str, Any]:
        """Wait until every run of the backfill is finished (re-runs keep their run ids)."""
        deadline = time.monotonic() + timeout
        while True:
            if check:
                check()
            backfill = self.request("GET", f"/backfills/{backfill_id}")
            if backfill.get("completed_at"):
                return backfill
            if time.monotonic() > deadline:
                raise TimeoutError(f"backfill {backfill_id} not completed after {timeout}s")
            time.sleep(3)

    def cancel_backfill(self, backfill_id: int) -> None:
        """Cancel a backfill (its queued runs do not start; Airflow then accepts another)."""
        self.request("PUT", f"/backfills/{backfill_id}/cancel")

    def running_backfills(self, dag_id: str) -> list[int]:
        backfills = self.request("GET", f"/backfills?dag_id={dag_id}&limit=100")["backfills"]
        return [b["id"] for b in backfills if not b.get("completed_at")]

    def clear(self, dag_id: str, run_id: str, task_ids: list[str], downstream: bool = True) -> list[str]:
        """Clear tasks of a run as an operator does in the UI (*Clear*, with Downstream); Airflow
        adds the setup and teardown tasks of their scope. Returns the cleared task ids."""
        body = {
            "dag_run_id": run_id,
            "task_ids": task_ids,
            "include_downstream": downstream,
            "only_failed": False,
            "reset_dag_runs": True,
            "dry_run": False,
        }
        cleared = self.request("POST", f"/dags/{dag_id}/clearTaskInstances", body)["task_instances"]
        return sorted(t["task_id"] for t in cleared)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float, check: Any = None) -> dict[str, Any]:
        """Wait until the run (e.g. after a clear) is finished again."""
        deadline = time.monotonic() + timeout
        time.sleep(2)  # the scheduler picks the cleared run up
        while True:
            if check:
                check()
            run = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] in TERMINAL:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id} {run_id} not finished after {timeout}s: {run['state']}")
            time.sleep(2)

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.request("GET", f"/dags/{dag_id}/dagRuns?limit=500&order_by=logical_date")["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=500")["task_instances"]

    def wait_for_runs(
        self, dag_id: str, run_filter: Any, expected: int, timeout: float, progress: Any = None, check: Any = None
    ) -> list[dict[str, Any]]:
        """Wait until ``expected`` runs matching ``run_filter`` are finished; return them."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            if check:
                check()
            runs = [r for r in self.runs(dag_id) if run_filter(r)]
            done = [r for r in runs if r["state"] in TERMINAL]
            if progress and (len(runs), len(done)) != last:
                last = (len(runs), len(done))
                progress(runs)
            if len(runs) >= expected and len(done) == len(runs):
                return runs
            if time.monotonic() > deadline:
                states = {r["dag_run_id"]: r["state"] for r in runs}
                raise TimeoutError(f"{dag_id}: runs not finished after {timeout}s: {states}")
            time.sleep(3)
