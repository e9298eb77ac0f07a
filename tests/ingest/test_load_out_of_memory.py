"""A landing file DuckDB cannot read under the load's memory_limit is the host's problem, not the file's.

Seen on a 100M-line invoice_lines.csv under the shipped 3GB: the fast scan failed with
OutOfMemoryException and the file went to the record-by-record path, which had spilled 20 GB and not
finished after nine minutes. Now the scan is tried once more on one thread; if that also runs out of
memory the load stops with LoadOutOfMemory naming the file and the setting to raise, rejects nothing
(no "ask the source to re-deliver", no copy under rejected/) and loads nothing of the day, which loads
on the next run once the limit is raised.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from bench_ingest import DAY, synthesize

import ingest.load_file as load_file
from ingest.errors import LoadOutOfMemory
from ingest.load import load_landing
from ingest.schema import ensure_raw_schema
from kam_warehouse.core.warehouse.duckdb_limits import DuckDBLimits

LINES = 400_000  # ~40 MB of CSV: more than one 32 MB block of DuckDB's CSV reader


def _landing(root: Path) -> Path:
    """One billing day: 2,000 invoices and LINES lines over them, every row valid (bench_ingest's book;
    the conftest puts benchmarks/ on the path)."""
    synthesize(root / "landing" / "billing" / DAY.isoformat(), LINES, 2000)
    return root / "landing"


def _warehouse(root: Path) -> Path:
    db = root / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        ensure_raw_schema(con)
        con.execute("INSERT INTO raw.crm__accounts (account_id) SELECT 'A' || i FROM range(500) t(i)")
    return db


def _loaded_lines(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM raw.billing__invoice_lines").fetchone()[0]


def _load(landing: Path, db: Path, root: Path, memory_limit: str):
    return load_landing(landing, db, run_id="t", rejected_dir=root / "rejected", sources=("billing",),
                        limits=DuckDBLimits(memory_limit=memory_limit, temp_directory=root / "tmp"))


def test_a_file_that_does_not_fit_the_memory_limit_stops_the_load_and_rejects_nothing(tmp_path: Path) -> None:
    landing, db = _landing(tmp_path), _warehouse(tmp_path)
    with pytest.raises(LoadOutOfMemory) as caught:
        _load(landing, db, tmp_path, "20MB")  # below one CSV reader block: fails on one thread too
    message = str(caught.value)
    assert "billing/2025-01-01/invoice_lines.csv" in message
    assert "memory_limit" in message and "build.duckdb_memory_limit" in message and "KAM_DUCKDB_MEMORY_LIMIT" in message
    assert "re-deliver" not in message
    assert _loaded_lines(db) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.load_manifest").fetchone()[0] == 0
    assert not list((tmp_path / "rejected").rglob("*.csv")), "nothing is copied to rejected/"
    report = _load(landing, db, tmp_path, "2GB")  # the limit raised: the same day loads, every row
    assert report.rows_loaded == LINES + 2000
    assert _loaded_lines(db) == LINES


def test_an_out_of_memory_scan_is_tried_again_on_one_thread_not_read_record_by_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    landing, db = _landing(tmp_path), _warehouse(tmp_path)
    real_scan, calls = load_file.scan_csv, []

    def scan_once_out_of_memory(con, e, *args, **kwargs):
        calls.append((e.name, con.execute("SELECT current_setting('threads')").fetchone()[0]))
        if e.name == "invoice_lines" and len([c for c in calls if c[0] == "invoice_lines"]) == 1:
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block (test)")
        return real_scan(con, e, *args, **kwargs)

    monkeypatch.setattr(load_file, "scan_csv", scan_once_out_of_memory)
    monkeypatch.setattr(load_file, "parse_file", lambda *a, **k: pytest.fail("read record by record"))
    with caplog.at_level("WARNING", logger="ingest.load_file"):
        report = _load(landing, db, tmp_path, "2GB")
    assert report.rows_loaded == LINES + 2000 and report.rows_quarantined == 0
    lines_calls = [threads for name, threads in calls if name == "invoice_lines"]
    assert len(lines_calls) == 2 and lines_calls[1] == 1  # the second scan ran on one thread
    assert "scanning it again on one" in caplog.text
    assert _loaded_lines(db) == LINES
