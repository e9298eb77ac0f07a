"""Airflow overhead figures: DAG file parse time (target < 0.5 s each, after `import airflow.sdk`) and
kam_nightly through `airflow dags test` vs `kam run` on the same generated data (target <= 1.5x).

    .venv/bin/python benchmarks/bench_airflow.py [--accounts 50] [--skip-run]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
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


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=50)
    ap.add_argument("--skip-run", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kam-bench-airflow-"))
    env = {**os.environ, "AIRFLOW_HOME": str(work / "airflow"), "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "DO_NOT_TRACK": "1", "PYTHONPATH": str(REPO)}
    for name, secs in parse_times(env).items():
        print(f"parse {name:<28} {secs:6.3f} s {'OK' if secs < 0.5 else 'SLOW'}")
    if args.skip_run:
        return
    landing = work / "landing"
    subprocess.run([BIN / "kam", "demo-data", "--out", str(landing), "--accounts", str(args.accounts)],
                   env=env, check=True, capture_output=True)
    cli = timed([str(BIN / "kam"), "run"], {**env, "KAM_LANDING_DIR": str(landing),
                                             "KAM_WAREHOUSE_DIR": str(work / "wh-cli")})
    air_env = {**env, "KAM_LANDING_DIR": str(landing), "KAM_WAREHOUSE_DIR": str(work / "wh-airflow")}
    subprocess.run([BIN / "airflow", "db", "migrate"], env=air_env, check=True, capture_output=True)
    from kam_warehouse.orchestration.landing_days import latest_common_day

    day = latest_common_day(landing).isoformat()
    ingest = sum(timed([str(BIN / "airflow"), "dags", "test", dag_id, day], air_env)
                 for dag_id in ("ingest_crm", "ingest_billing"))
    nightly = timed([str(BIN / "airflow"), "dags", "test", "kam_nightly", day], air_env)
    total = ingest + nightly
    print(f"kam run (load+build+gate+tiers+publish)          {cli:7.1f} s")
    print(f"airflow dags test ingest_crm + ingest_billing    {ingest:7.1f} s")
    print(f"airflow dags test kam_nightly                    {nightly:7.1f} s")
    print(f"Airflow, whole night / kam run                   {total / cli:7.2f}x "
          f"({'OK' if total / cli <= 1.5 else 'over 1.5x'})")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
