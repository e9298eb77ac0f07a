"""Killed runs do not stay `running` forever: the next step of any run marks them `killed`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from kam_warehouse.faults import ENV
from kam_warehouse.runlog import STALE_AFTER, ensure_ops_schema, recorded_step

STEP_THEN_DIE = """
import sys
from pathlib import Path
from kam_warehouse.runlog import recorded_step
with recorded_step(Path(sys.argv[1]), run_id=sys.argv[2], step="load", triggered_by="test"):
    pass
"""


def _status(db: Path) -> dict[tuple[str, str], tuple[str, str | None]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT run_id, step, status, message FROM ops.pipeline_runs").fetchall()
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def test_a_run_killed_mid_step_is_marked_killed_by_the_next_step(tmp_path: Path) -> None:
    """A process SIGKILLed inside its load step leaves a `running` row; the next step (another run)
    marks it `killed`, naming the dead pid and the run that found it; its own row is unaffected."""
    db = tmp_path / "build.duckdb"
    proc = subprocess.run([sys.executable, "-c", STEP_THEN_DIE, str(db), "dead-run"],
                          env={**os.environ, ENV: "step:load:start"}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert _status(db)[("dead-run", "load")][0] == "running"
    with recorded_step(db, run_id="next-run", step="load", triggered_by="test"):
        pass
    status = _status(db)
    assert status[("dead-run", "load")][0] == "killed"
    assert "found by run next-run" in (status[("dead-run", "load")][1] or "")
    assert status[("next-run", "load")][0] == "success"


def test_live_and_unverifiable_recent_rows_stay_running(tmp_path: Path) -> None:
    """A `running` row of a live process, or of another host within STALE_AFTER, is left alone;
    another host's row older than STALE_AFTER (its lease ran out) is marked killed."""
    db = tmp_path / "build.duckdb"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    now = datetime.now(UTC).replace(tzinfo=None)
    try:
        with duckdb.connect(str(db)) as con:
            ensure_ops_schema(con)
            for run_id, pid, host, started in (
                ("alive", sleeper.pid, socket.gethostname(), now),
                ("other-host-recent", 1, "elsewhere", now),
                ("other-host-stale", 1, "elsewhere", now - STALE_AFTER - timedelta(minutes=1)),
                ("pre-pid-stale", None, None, now - STALE_AFTER - timedelta(minutes=1)),
            ):
                con.execute("INSERT INTO ops.pipeline_runs (run_id, step, status, started_at, pid, host) "
                            "VALUES (?, 'dbt_build', 'running', ?, ?, ?)", [run_id, started, pid, host])
        with recorded_step(db, run_id="checker", step="load", triggered_by="test"):
            pass
        status = {k[0]: v[0] for k, v in _status(db).items()}
    finally:
        sleeper.kill()
        sleeper.wait()
    assert status == {"alive": "running", "other-host-recent": "running", "other-host-stale": "killed",
                      "pre-pid-stale": "killed", "checker": "success"}
