"""Exactly-once loading: re-runs are no-ops, changed files are reported not reloaded, days load in order."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from ingest.errors import IngestError
from ingest.landing import is_complete, pending_days
from ingest.load import load_day, load_landing
from ingest.schema import ensure_raw_schema

if TYPE_CHECKING:
    from conftest import LandingBuilder

Query = Callable[[str], list[tuple]]

SNAPSHOT = """SELECT (SELECT count(*) FROM raw.billing__invoices), (SELECT count(*) FROM raw.billing__invoice_lines),
                     (SELECT count(*) FROM raw.crm__accounts), (SELECT count(*) FROM raw.quarantine),
                     (SELECT count(*) FROM raw.load_manifest), (SELECT count(*) FROM raw.load_batches)"""


def _two_days(lz: LandingBuilder) -> None:
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    files = lz.valid_billing()
    files["invoice_lines.csv"] = str(files["invoice_lines.csv"]) + lz.line(quantity="-1")
    lz.write_day("billing", lz.DAY1, files)
    lz.write_day(
        "billing",
        lz.DAY2,
        {
            "invoices.csv": lz.csv_text([{**lz.INVOICE, "status": "void"}]),
            "credit_notes.csv": lz.header_only("billing", "credit_notes"),
        },
    )


def test_rerun_is_a_no_op(lz: LandingBuilder, db: Path, rejected: Path, query: Query) -> None:
    """Running the load again changes no row count and no manifest row, and reports nothing loaded."""
    _two_days(lz)
    first = load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    before = query(SNAPSHOT)
    second = load_landing(lz.root, db, run_id="r2", rejected_dir=rejected)
    assert query(SNAPSHOT) == before
    assert second.days_loaded == [] and second.files == []
    assert (
        load_day(lz.root, db, source="billing", day=lz.DAY1, run_id="r3", rejected_dir=rejected).applied
        is False
    )
    assert query(SNAPSHOT) == before
    assert (first.rows_read, first.rows_loaded, first.rows_quarantined) == (12, 11, 1)


def test_accounting_identity_on_every_file(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """rows_read = rows_loaded + rows_quarantined per manifest row, and matches raw and quarantine rows."""
    _two_days(lz)
    report = load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    rows = query("""SELECT m.file_path, m.rows_read, m.rows_loaded, m.rows_quarantined,
                           (SELECT count(*) FROM raw.quarantine q WHERE q.file_path = m.file_path)
                    FROM raw.load_manifest m""")
    assert len(rows) == 6
    for path, read, loaded, quarantined, in_quarantine in rows:
        assert read == loaded + quarantined, path
        assert in_quarantine == quarantined, path
    assert {f.path: f.rows_quarantined for f in report.files}["billing/2025-01-01/invoice_lines.csv"] == 1
    assert query("SELECT count(*) FROM raw.billing__invoice_lines") == [(4,)]


def test_changed_file_is_reported_not_reloaded(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """A loaded file whose bytes change under the same name is reported (manifest + LoadReport warning),
    once in the manifest however often the load re-runs, and its rows are not loaded twice."""
    _two_days(lz)
    load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    path = lz.root / "billing" / "2025-01-02" / "invoices.csv"
    path.write_text(lz.csv_text([{**lz.INVOICE, "status": "issued"}]))
    os.utime(path, ns=(1, 1))
    report = load_landing(lz.root, db, run_id="r2", rejected_dir=rejected)
    again = load_landing(lz.root, db, run_id="r3", rejected_dir=rejected)
    assert (
        [f.path for f in report.changed]
        == [f.path for f in again.changed]
        == ["billing/2025-01-02/invoices.csv"]
    )
    assert report.warnings and report.warnings[0].startswith(
        "billing/2025-01-02/invoices.csv: changed_after_load"
    )
    assert query("SELECT count(*) FROM raw.load_manifest WHERE status = 'changed_after_load'") == [(1,)]
    assert query("SELECT status, count(*) FROM raw.billing__invoices GROUP BY 1 ORDER BY 1") == [
        ("issued", 2),
        ("void", 1),
    ]


def test_incomplete_folder_is_not_read(lz: LandingBuilder, db: Path, rejected: Path, query: Query) -> None:
    """A day folder without _SUCCESS is skipped by load_landing and refused by load_day."""
    lz.write_day("crm", lz.DAY1, lz.valid_crm(), complete=False)
    assert not is_complete(lz.root, "crm", lz.DAY1)
    assert pending_days(lz.root, db, "crm") == []
    report = load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    assert report.days_loaded == []
    assert query("SELECT count(*) FROM raw.crm__accounts") == [(0,)]
    with pytest.raises(IngestError, match="_SUCCESS"):
        load_day(lz.root, db, source="crm", day=lz.DAY1, run_id="r1", rejected_dir=rejected)


def test_days_load_in_date_order_crm_first(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """Days load oldest first, crm before billing on the same day, and through_day bounds the load."""
    lz.write_day("billing", lz.DAY3, lz.valid_billing())
    lz.write_day("crm", lz.DAY3, lz.valid_crm())
    lz.write_day("crm", lz.DAY1, lz.valid_crm(1))
    lz.write_day("crm", lz.DAY2, lz.valid_crm(2))
    assert pending_days(lz.root, db, "crm") == [lz.DAY1, lz.DAY2, lz.DAY3]
    report = load_landing(lz.root, db, run_id="r1", rejected_dir=rejected, through_day=lz.DAY2)
    assert report.days_loaded == [("crm", lz.DAY1), ("crm", lz.DAY2)]
    report = load_landing(lz.root, db, run_id="r2", rejected_dir=rejected)
    assert report.days_loaded == [("crm", lz.DAY3), ("billing", lz.DAY3)]
    assert query("SELECT count(*) FROM raw.quarantine") == [(0,)]
    assert query("SELECT min(_loaded_at) < max(_loaded_at) FROM raw.crm__accounts") == [(True,)]


def test_ensure_raw_schema_on_empty_db(db: Path) -> None:
    """An empty DB gets every raw table (so dbt sources exist) and a second call changes nothing."""
    db.parent.mkdir(parents=True)
    with duckdb.connect(str(db)) as con:
        ensure_raw_schema(con)
        ensure_raw_schema(con)
        tables = {
            t
            for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
            ).fetchall()
        }
    assert {
        "billing__invoice_lines",
        "crm__accounts",
        "load_manifest",
        "quarantine",
        "load_batches",
    } <= tables
    assert len(tables) == 12
