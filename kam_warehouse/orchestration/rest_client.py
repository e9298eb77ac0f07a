"""A small client for the Airflow 3 REST API (/api/v2) of services started by scripts/airflow-local.sh
(used by tests/dags/test_real_services.py and benchmarks/bench_airflow.py):
a JWT from POST /auth/token with the simple-auth password, JSON in and out, retries on SQLite's
"database is locked" (503) answers under concurrent access."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class AirflowRest:
    def __init__(self, base_url: str, passwords_file: Path, user: str = "admin") -> None:
        self.base_url = base_url.rstrip("/")
        password = json.loads(passwords_file.read_text())[user]
        self.token = self._call("POST", "/auth/token", {"username": user, "password": password},
                                auth=False)["access_token"]

    def _call(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> Any:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(10):
            req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    raw = resp.read()
                    return json.loads(raw) if raw else None
            except urllib.error.HTTPError as exc:
                if exc.code in (500, 503) and attempt < 9:  # SQLite busy under concurrent writers
                    time.sleep(1 + attempt)
                    continue
                raise AssertionError(f"{method} {path} -> {exc.code}: {exc.read().decode()[:500]}") from exc
        raise AssertionError(f"{method} {path}: no answer")

    def get(self, path: str) -> Any:
        return self._call("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self._call("POST", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self._call("PATCH", path, body)

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns?limit=100&order_by=run_after")["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=200")["task_instances"]

    def xcom(self, dag_id: str, run_id: str, task_id: str) -> Any:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/"
                        "return_value")["value"]

    def trigger(self, dag_id: str, run_id: str, logical_date: datetime) -> dict[str, Any]:
        return self.post(f"/api/v2/dags/{dag_id}/dagRuns",
                         {"dag_run_id": run_id, "logical_date": logical_date.isoformat()})


def wait_for(what: str, check: Callable[[], T | None], *, timeout: float, every: float = 3.0) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
