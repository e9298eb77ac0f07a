"""File-level defects reject the file: its day is not applied, the file is copied aside, the source stops."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ingest.errors import FileRejected
from ingest.landing import pending_days
from ingest.load import load_landing

if TYPE_CHECKING:
    from conftest import LandingBuilder

Query = Callable[[str], list[tuple]]

RAW_COUNTS = (
    "SELECT (SELECT count(*) FROM raw.billing__invoices), (SELECT count(*) FROM raw.billing__payments)"
)


def _bad_invoice_lines(lz: LandingBuilder, defect: str) -> bytes:
    text = str(lz.valid_billing()["invoice_lines.csv"])
    if defect == "missing_required_column":
        rows = lz.rows_of(lz.LINE, 2, "invoice_line_id", "L")
        return lz.csv_text(rows, header=[c for c in lz.LINE if c != "amount"]).encode()
    if defect == "wrong_encoding":
        return text.replace("support, annual", "支持服务").encode("gb18030")
    return b""


@pytest.mark.parametrize("defect", ["missing_required_column", "wrong_encoding", "empty_file"])
def test_file_defect_rejects_whole_day(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query, defect: str
) -> None:
    """The rejected file's day is rolled back (the day's valid invoices/payments are absent from raw),
    the manifest and quarantine name the problem, the file is copied to rejected_dir unchanged in
    landing, and FileRejected names file and defect class."""
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    files = lz.valid_billing()
    files["invoice_lines.csv"] = _bad_invoice_lines(lz, defect)
    folder = lz.write_day("billing", lz.DAY1, files)
    before = (folder / "invoice_lines.csv").read_bytes()

    with pytest.raises(FileRejected) as err:
        load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)

    assert err.value.file == "billing/2025-01-01/invoice_lines.csv"
    assert err.value.problem.startswith(f"{defect}: ")
    assert query(RAW_COUNTS) == [(0, 0)]
    assert query("SELECT count(*) FROM raw.crm__accounts") == [(3,)]  # the other source loaded
    assert query(
        "SELECT file_path, status, rows_read, rows_loaded, rows_quarantined FROM raw.load_manifest "
        "WHERE source = 'billing'"
    ) == [("billing/2025-01-01/invoice_lines.csv", "rejected", 0, 0, 0)]
    assert query("SELECT line_number, reason LIKE ? FROM raw.quarantine".replace("?", f"'{defect}: %'")) == [
        (None, True)
    ]
    copy = rejected / "billing" / "2025-01-01" / "invoice_lines.csv"
    assert copy.read_bytes() == before == (folder / "invoice_lines.csv").read_bytes()
    assert err.value.report is not None and err.value.report.days_loaded == [("crm", lz.DAY1)]


def test_rejected_source_stops_and_redelivery_loads(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """Later days of a source wait behind a rejected day; after a fixed re-delivery both days load in order."""
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    bad = lz.valid_billing()
    bad["payments.csv"] = b""
    lz.write_day("billing", lz.DAY1, bad)
    lz.write_day("billing", lz.DAY2, {"invoices.csv": lz.csv_text([{**lz.INVOICE, "invoice_id": "I7"}])})

    with pytest.raises(FileRejected):
        load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    assert pending_days(lz.root, db, "billing") == [lz.DAY1, lz.DAY2]
    assert query(RAW_COUNTS) == [(0, 0)]

    lz.write_day("billing", lz.DAY1, lz.valid_billing())  # re-delivered under the same names
    report = load_landing(lz.root, db, run_id="r2", rejected_dir=rejected)
    assert report.days_loaded == [("billing", lz.DAY1), ("billing", lz.DAY2)]
    assert query(
        "SELECT invoice_id, _extract_day FROM raw.billing__invoices ORDER BY _extract_day, invoice_id"
    ) == [("I1", lz.DAY1), ("I2", lz.DAY1), ("I7", lz.DAY2)]
    assert pending_days(lz.root, db, "billing") == []


def test_extra_columns_are_recorded_not_fatal(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """A column outside the contract is recorded in the manifest; the file loads."""
    rows = [{**r, "loyalty_tier": "gold"} for r in lz.rows_of(lz.ACCOUNT, 2, "account_id", "A")]
    lz.write_day("crm", lz.DAY1, {"accounts.csv": lz.csv_text(rows)})
    load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    assert query("SELECT extra_columns, rows_loaded FROM raw.load_manifest") == [("loyalty_tier", 2)]
