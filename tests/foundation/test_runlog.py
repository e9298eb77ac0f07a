"""ops.pipeline_runs: engineers see every step of every run, including failed and killed ones."""

from pathlib import Path

import duckdb
import pytest

from kam_warehouse.runlog import recorded_step


def _rows(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT run_id, step, status, rows_in, rows_out, message, ended_at IS NOT NULL, duration_s >= 0 "
            "FROM ops.pipeline_runs ORDER BY started_at"
        ).fetchall()


def test_successful_step_is_recorded_with_counts(tmp_path: Path) -> None:
    """A step that finishes leaves one `success` row with its row counts, end time and duration."""
    db = tmp_path / "build.duckdb"
    with recorded_step(db, run_id="r1", step="load", triggered_by="test") as rec:
        rec.rows_in, rec.rows_out, rec.message = 10, 9, "9 of 10 loaded"
    assert _rows(db) == [("r1", "load", "success", 10, 9, "9 of 10 loaded", True, True)]


def test_failed_step_is_recorded_and_the_error_propagates(tmp_path: Path) -> None:
    """A step that raises is recorded as `failed` with the error message, and the error is not swallowed."""
    db = tmp_path / "build.duckdb"
    with pytest.raises(RuntimeError, match="disk full"), recorded_step(db, run_id="r1", step="publish", triggered_by="t"):
        raise RuntimeError("disk full")
    assert _rows(db)[0][:3] == ("r1", "publish", "failed")
    assert _rows(db)[0][5] == "disk full"


def test_rerunning_a_step_replaces_its_row(tmp_path: Path) -> None:
    """Re-running the same (run_id, step) — an Airflow retry — replaces the row instead of duplicating it."""
    db = tmp_path / "build.duckdb"
    for _ in range(2):
        with recorded_step(db, run_id="r1", step="dbt_build", triggered_by="t"):
            pass
    assert len(_rows(db)) == 1


def test_step_can_record_a_held_back_status(tmp_path: Path) -> None:
    """A step may end as `held_back` (the gate), which is what engineers filter on."""
    db = tmp_path / "build.duckdb"
    with recorded_step(db, run_id="r1", step="tiers", triggered_by="t") as rec:
        rec.extra["status"] = "held_back"
    assert _rows(db)[0][2] == "held_back"
