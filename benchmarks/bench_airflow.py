"""Airflow overhead figures, measured in one run on the same generated data:

1. DAG file parse time: each file in a fresh process after `import airflow.sdk` (target < 0.5 s), and the
   "Last Duration" per file that the real dag-processor reports in its stats table.
2. One night under the real scheduler (scripts/airflow-local.sh up: api-server, scheduler, dag-processor,
   triggerer, LocalExecutor): from triggering ingest_crm + ingest_billing for the day until
   serving.duckdb is published by the asset-triggered kam_nightly — against `kam run` (load + build +
   gate + tiers + publish) on an identical copy of the landing zone (target <= 1.2x).

    .venv/bin/python benchmarks/bench_airflow.py [--accounts 300] [--months 36] [--skip-night]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SCRIPT = REPO / "scripts" / "airflow-local.sh"
TARGET = 1.2
PARSE_PROBE = """
import sys, time
import airflow.sdk  # baseline: every DAG file pays this once per parsing process
from airflow.dag_processing.dagbag import DagBag
t = time.perf_counter(); bag = DagBag(dag_folder=sys.argv[1]); dt = time.perf_counter() - t
assert not bag.import_errors, bag.import_errors
print(f"{dt:.3f}")
"""


def parse_times(env: dict[str, str]) -> dict[str, float]:
    """Each DAG file parsed in a fresh process, timed after airflow.sdk is imported."""
    out = {}
    for f in sorted((REPO / "dags").glob("*.py")):
        res = subprocess.run([sys.executable, "-c", PARSE_PROBE, str(f)], env=env, capture_output=True,
                             text=True, check=True)
        out[f.name] = float(res.stdout.strip().splitlines()[-1])
    return out


def processor_parse_times(log: Path) -> dict[str, str]:
    """'Last Duration' per DAG file from the last stats table in the dag-processor's log."""
    tables = log.read_text(errors="replace").split("DAG File Processing Stats")
    out: dict[str, str] = {}
    for table in reversed(tables[1:]):
        for line in table.splitlines():
            m = re.match(r"\S+\s+(\S+\.py)\s.*?(\d+\.\d+s)\s+\d{4}-\d\d-\d\dT", line)
            if m:
                out[m.group(1)] = m.group(2)
        if out:
            break
    return out


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dags_parsed(rest: Any, dag_ids: tuple[str, ...]) -> bool:
    """Whether every one of `dag_ids` is parsed; raises at once on a DAG file that failed to import
    (waiting could not fix it), with Airflow's own error."""
    errors = rest.get("/api/v2/importErrors").get("import_errors", [])
    if errors:
        raise RuntimeError("DAG import error(s): " + "; ".join(
            f"{e.get('filename')}: {(str(e.get('stack_trace', '')).strip().splitlines() or [''])[-1]}"
            for e in errors))
    return set(dag_ids) <= {d["dag_id"] for d in rest.get("/api/v2/dags")["dags"]}


@contextmanager
def nightly_services(env: dict[str, str]) -> Iterator[tuple[Any, float]]:
    """`airflow-local.sh up`, the night's DAGs parsed and unpaused: (REST client, start-up seconds); `down`
    afterwards whatever happens."""
    from kam_warehouse.orchestration.rest_client import AirflowRest, wait_for

    t = time.perf_counter()
    subprocess.run([str(SCRIPT), "up"], env=env, check=True, capture_output=True, text=True, timeout=900)
    startup = time.perf_counter() - t
    try:
        rest = AirflowRest(f"http://127.0.0.1:{env['KAM_AIRFLOW_PORT']}",
                           Path(env["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated")
        dag_ids = ("ingest_crm", "ingest_billing", "kam_nightly")
        wait_for("the DAGs", lambda: _dags_parsed(rest, dag_ids), timeout=600)
        for dag_id in dag_ids:
            rest.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})
        yield rest, startup
    finally:
        subprocess.run([str(SCRIPT), "down"], env=env, capture_output=True, text=True, timeout=300)


def night_under_scheduler(env: dict[str, str], day: str) -> dict[str, float]:
    """Start the services, run one night (both ingests, the asset-triggered nightly), stop them."""
    from kam_warehouse.orchestration.deadline import published_through
    from kam_warehouse.orchestration.rest_client import wait_for

    with nightly_services(env) as (rest, startup):
        home = Path(env["AIRFLOW_HOME"])
        serving = Path(env["KAM_WAREHOUSE_DIR"]) / "serving.duckdb"
        logical = datetime.fromisoformat(day).replace(tzinfo=UTC)
        t = time.perf_counter()
        for source in ("crm", "billing"):
            rest.trigger(f"ingest_{source}", f"bench__{day}", logical)
        expected = datetime.fromisoformat(day).date()
        wait_for("the night's publish", lambda: published_through(serving) == {"billing": expected, "crm": expected},
                 timeout=3600, every=1.0)
        night = time.perf_counter() - t
        wait_for("the nightly runs to finish", lambda: all(
            r["state"] in ("success", "failed") for r in rest.runs("kam_nightly")), timeout=600)
        runs = [r for r in rest.runs("kam_nightly") if r["state"] == "success"]
        durations = {r["dag_run_id"]: (datetime.fromisoformat(r["end_date"]) - datetime.fromisoformat(r["start_date"]))
                     .total_seconds() for r in runs if r["end_date"]}
        return {"startup": startup, "night": night, "nightly_run": max(durations.values(), default=float("nan")),
                "processor": processor_parse_times(home / "run" / "dag-processor.log")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=300)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--skip-night", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kam-bench-airflow-"))
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env = {**base, "AIRFLOW_HOME": str(work / "airflow"), "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "DO_NOT_TRACK": "1", "PYTHONPATH": str(REPO),
           "KAM_ENV": os.environ.get("KAM_ENV", "test")}
    try:
        for name, secs in parse_times(env).items():
            print(f"parse {name:<28} {secs:6.3f} s {'OK' if secs < 0.5 else 'SLOW'}")
        if args.skip_night:
            return
        landing = work / "landing"
        subprocess.run([BIN / "kam", "demo-data", "--out", str(landing), "--accounts", str(args.accounts),
                        "--months", str(args.months), "--days", "0"], env=env, check=True, capture_output=True)
        from kam_warehouse.orchestration.landing_days import latest_common_day

        day = latest_common_day(landing).isoformat()
        cli = timed([str(BIN / "kam"), "run"], {**env, "KAM_LANDING_DIR": str(landing),
                                                 "KAM_WAREHOUSE_DIR": str(work / "wh-cli")})
        shutil.copytree(landing, work / "landing-airflow")
        air = night_under_scheduler({**env, "KAM_LANDING_DIR": str(work / "landing-airflow"),
                                     "KAM_WAREHOUSE_DIR": str(work / "wh-airflow"),
                                     "KAM_AIRFLOW_PORT": str(_free_port())}, day)
        for name, secs in sorted(air["processor"].items()):
            print(f"dag-processor last parse {name:<28} {secs}")
        ratio = air["night"] / cli
        print(f"accounts {args.accounts}, months {args.months}, day {day}")
        print(f"kam run (load+build+gate+tiers+publish)                 {cli:7.1f} s")
        print(f"services up (migrate, 4 services, API healthy)           {air['startup']:7.1f} s (once, not per night)")
        print(f"night under the scheduler: trigger ingests -> published  {air['night']:7.1f} s")
        print(f"  of which the longest kam_nightly run (start -> end)    {air['nightly_run']:7.1f} s")
        print(f"real scheduler night / kam run                           {ratio:7.2f}x "
              f"({'OK' if ratio <= TARGET else f'over {TARGET}x'})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
