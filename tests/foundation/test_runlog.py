"""ops.pipeline_runs: engineers see every step of every run, including failed and killed ones, on the
embedded DuckDB build warehouse and on a PostgreSQL build database alike."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kam_warehouse.core.warehouse import Warehouse, connect, locate
from kam_warehouse.faults import ENV
from kam_warehouse.runlog import recorded_step

#: a step whose process is SIGKILLed at its start (fault point step:load:start)
STEP_THEN_DIE = """
import sys
from pathlib import Path
from kam_warehouse.core.warehouse import locate
from kam_warehouse.runlog import recorded_step
with recorded_step(locate(sys.argv[1], Path(sys.argv[2])).build, run_id="dead-run", step="load", triggered_by="t"):
    pass
"""


@pytest.fixture(params=["duckdb", "postgresql"])
def url(request, tmp_path: Path) -> str:
    """KAM_WAREHOUSE_URL of an empty build warehouse: the embedded file, or a fresh PostgreSQL database."""
    return "" if request.param == "duckdb" else request.getfixturevalue("pg_warehouse_url")()


@pytest.fixture
def build(url: str, tmp_path: Path) -> Warehouse:
    return locate(url, tmp_path).build


def _rows(build: Warehouse) -> list[tuple]:
    with connect(build, read_only=True) as con:
        return con.execute(
            "SELECT run_id, step, status, rows_in, rows_out, message, ended_at IS NOT NULL, duration_s >= 0 "
            "FROM ops.pipeline_runs ORDER BY started_at"
        ).fetchall()


def test_successful_step_is_recorded_with_counts(build: Warehouse) -> None:
    """A step shows `running` while it runs and leaves one `success` row with its row counts, end time and
    duration."""
    with recorded_step(build, run_id="r1", step="load", triggered_by="test") as rec:
        assert _rows(build) == [("r1", "load", "running", None, None, None, False, None)]
        rec.rows_in, rec.rows_out, rec.message = 10, 9, "9 of 10 loaded"
    assert _rows(build) == [("r1", "load", "success", 10, 9, "9 of 10 loaded", True, True)]


def test_failed_step_is_recorded_and_the_error_propagates(build: Warehouse) -> None:
    """A step that raises is recorded as `failed` with the error message, and the error is not swallowed."""
    with pytest.raises(RuntimeError, match="disk full"), recorded_step(build, run_id="r1", step="publish",
                                                                      triggered_by="t"):
        raise RuntimeError("disk full")
    assert _rows(build)[0][:3] == ("r1", "publish", "failed")
    assert _rows(build)[0][5] == "disk full"


def test_rerunning_a_step_replaces_its_row(tmp_path: Path) -> None:
    """Re-running the same (run_id, step) — an Airflow retry — replaces the row instead of duplicating it."""
    db = tmp_path / "build.duckdb"  # a path still names the embedded file
    for _ in range(2):
        with recorded_step(db, run_id="r1", step="dbt_build", triggered_by="t"):
            pass
    assert len(_rows(locate("", tmp_path).build)) == 1


def test_step_can_record_a_held_back_status(build: Warehouse) -> None:
    """A step may end as `held_back` (the gate), which is what engineers filter on."""
    with recorded_step(build, run_id="r1", step="tiers", triggered_by="t") as rec:
        rec.extra["status"] = "held_back"
    assert _rows(build)[0][2] == "held_back"


def test_a_killed_step_is_marked_killed_by_the_next_step(url: str, build: Warehouse, tmp_path: Path) -> None:
    """A process SIGKILLed inside its step leaves a `running` row; the next step (another run) marks it
    `killed`, naming the run that found it."""
    proc = subprocess.run([sys.executable, "-c", STEP_THEN_DIE, url, str(tmp_path)],
                          env={**os.environ, ENV: "step:load:start"}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert _rows(build)[0][:3] == ("dead-run", "load", "running")
    with recorded_step(build, run_id="next-run", step="load", triggered_by="t"):
        pass
    with connect(build, read_only=True) as con:
        status = dict(con.execute("SELECT run_id, status || ': ' || coalesce(message, '') "
                                  "FROM ops.pipeline_runs").fetchall())
    assert status["dead-run"].startswith("killed: ") and "found by run next-run" in status["dead-run"]
    assert status["next-run"] == "success: "
