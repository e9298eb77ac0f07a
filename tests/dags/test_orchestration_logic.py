"""The logic behind the DAGs that runs without a scheduler: deadline check, log pruning, fail-fast rule."""

from __future__ import annotations

import os
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from kam_warehouse.errors import GateBlocked, WarehouseLocked
from kam_warehouse.orchestration.deadline import DeadlineMissed, check_published, cron_for
from kam_warehouse.orchestration.maintenance import checkpoint, prune_logs
from kam_warehouse.orchestration.runtime import fail_fast


def test_deadline_passes_when_published_today(tmp_path: Path) -> None:
    """A serving file replaced today (UTC) satisfies the deadline."""
    serving = tmp_path / "serving.duckdb"
    serving.write_bytes(b"x")
    assert check_published(serving, now=datetime.now(UTC), deadline=time(6, 0))


def test_deadline_missed_names_the_file_and_time(tmp_path: Path) -> None:
    """A serving file last replaced yesterday (or missing) raises DeadlineMissed naming both."""
    serving = tmp_path / "serving.duckdb"
    with pytest.raises(DeadlineMissed, match="never"):
        check_published(serving, now=datetime.now(UTC), deadline=time(6, 0))
    serving.write_bytes(b"x")
    yesterday = datetime.now(UTC).timestamp() - 2 * 86400
    os.utime(serving, (yesterday, yesterday))
    with pytest.raises(DeadlineMissed, match=r"06:00 UTC.*serving.duckdb"):
        check_published(serving, now=datetime.now(UTC), deadline=time(6, 0))
    assert cron_for(time(6, 30)) == "30 6 * * *"


def test_prune_logs_keeps_recent_files(tmp_path: Path) -> None:
    """Only log files older than the retention are deleted, and emptied folders go with them."""
    old = tmp_path / "dag_id=a" / "run_id=1" / "attempt=1.log"
    new = tmp_path / "dag_id=b" / "attempt=1.log"
    for f in (old, new):
        f.parent.mkdir(parents=True)
        f.write_text("log")
    stamp = datetime.now(UTC).timestamp() - 40 * 86400
    os.utime(old, (stamp, stamp))
    assert prune_logs(tmp_path, older_than_days=30) == 1
    assert new.exists() and not old.exists() and not (tmp_path / "dag_id=a").exists()


def test_checkpoint_runs_on_a_real_duckdb_file(tmp_path: Path) -> None:
    """FORCE CHECKPOINT works on a DuckDB file and reports its size."""
    import duckdb

    db = tmp_path / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS i FROM range(1000)")
    sizes = checkpoint(db)
    assert sizes["bytes_after"] > 0


def test_fail_fast_converts_person_errors_and_keeps_transient_ones() -> None:
    """A gate block / bug fails without retry (AirflowFailException); a busy warehouse stays retryable."""
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match=r"blocking check.*orphan_lines"), fail_fast():
        raise GateBlocked(["orphan_lines"])
    with pytest.raises(AirflowFailException, match="AttributeError"), fail_fast():
        raise AttributeError("bug")
    with pytest.raises(WarehouseLocked), fail_fast():
        raise WarehouseLocked("busy")


def test_landing_day_is_the_logical_date_for_scheduled_and_manual_runs() -> None:
    """`airflow dags test ingest_crm 2025-01-31` must load 2025-01-31's folder: Airflow infers a manual run's
    interval as the day *ending* at its logical date, so the logical date (not the interval start) decides;
    a scheduled run's logical date is its interval start, the same day."""
    from datetime import UTC, datetime

    from kam_warehouse.orchestration.runtime import landing_day

    manual = {"logical_date": datetime(2025, 1, 31, tzinfo=UTC),
              "data_interval_start": datetime(2025, 1, 30, tzinfo=UTC)}
    scheduled = {"logical_date": datetime(2025, 1, 30, tzinfo=UTC),
                 "data_interval_start": datetime(2025, 1, 30, tzinfo=UTC)}
    assert landing_day(manual).isoformat() == "2025-01-31"
    assert landing_day(scheduled).isoformat() == "2025-01-30"
    assert landing_day({"logical_date": None, "data_interval_start": datetime(2025, 1, 2, tzinfo=UTC)}).day == 2
