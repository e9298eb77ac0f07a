"""The single-scan load path: first failure in contract order with reference checks, line numbers past
malformed records, and UTF-8 validation by DuckDB's reader for UTF-8-only (billing) files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ingest.errors import FileRejected
from ingest.load import load_landing

if TYPE_CHECKING:
    from conftest import LandingBuilder

Query = Callable[[str], list[tuple]]


def _load(lz: LandingBuilder, db: Path, rejected: Path, billing: dict[str, str | bytes]) -> None:
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    lz.write_day("billing", lz.DAY1, billing)
    load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)


def test_unknown_reference_ranks_by_column_order(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """An unknown reference is the reported failure when its column comes first; an earlier column's
    failure wins over it; with two unknown references the first column's is reported."""
    files = lz.valid_billing(lines=1)
    files["invoice_lines.csv"] = (
        str(files["invoice_lines.csv"])
        + lz.line(invoice_line_id="L2", invoice_id="I999", service_start="bad")
        + lz.line(invoice_line_id="", invoice_id="I998")
        + lz.line(invoice_line_id="L4", invoice_id="I1")
    )
    files["payments.csv"] = lz.csv_text([{**lz.PAYMENT, "invoice_id": "I997", "account_id": "NOPE"}])
    _load(lz, db, rejected, files)
    assert query("SELECT file_path, line_number, column_name, reason FROM raw.quarantine ORDER BY 1, 2") == [
        ("billing/2025-01-01/invoice_lines.csv", 3, "invoice_id",
         "unknown_invoice: invoice_id not found in billing.invoices"),
        ("billing/2025-01-01/invoice_lines.csv", 4, "invoice_line_id", "missing_value: invoice_line_id is empty"),
        ("billing/2025-01-01/payments.csv", 2, "invoice_id",
         "unknown_invoice: invoice_id not found in billing.invoices"),
    ]
    assert query("SELECT invoice_line_id, _line_number FROM raw.billing__invoice_lines ORDER BY 2") == [
        ("L1", 2), ("L4", 5)
    ]


def test_lines_after_a_malformed_record_keep_their_physical_line(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """A malformed record mid-file is quarantined as malformed_row with its text; the records after it
    load with their own physical line numbers."""
    files = lz.valid_billing(lines=1)
    files["invoice_lines.csv"] = (
        str(files["invoice_lines.csv"]) + "L2,I1,P1\n" + lz.line(invoice_line_id="L3") + lz.line(invoice_line_id="L4")
    )
    _load(lz, db, rejected, files)
    [(line, reason, raw_line)] = query("SELECT line_number, reason, raw_line FROM raw.quarantine")
    assert (line, raw_line) == (3, "L2,I1,P1") and reason.startswith("malformed_row: ")
    assert query("SELECT invoice_line_id, _line_number FROM raw.billing__invoice_lines ORDER BY 2") == [
        ("L1", 2), ("L3", 4), ("L4", 5)
    ]
    assert query("SELECT rows_read, rows_loaded, rows_quarantined FROM raw.load_manifest "
                 "WHERE entity = 'invoice_lines'") == [(4, 3, 1)]


@pytest.mark.parametrize("where", ["header", "last line"])
def test_invalid_utf8_in_billing_file_is_wrong_encoding(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query, where: str
) -> None:
    """Bytes that are not UTF-8 anywhere in a billing file (header or data) reject it as wrong_encoding
    and roll its day back."""
    text = str(lz.valid_billing(lines=2)["invoice_lines.csv"]).encode()
    if where == "header":
        bad = text.replace(b"product_code", b"product_\xffcode", 1)
    else:
        bad = text + lz.line(invoice_line_id="L9").encode().replace(b"support", b"supp\xc3\x28ort")
    files = lz.valid_billing()
    files["invoice_lines.csv"] = bad
    with pytest.raises(FileRejected, match="wrong_encoding") as err:
        _load(lz, db, rejected, files)
    assert err.value.file == "billing/2025-01-01/invoice_lines.csv"
    assert query("SELECT count(*) FROM raw.billing__invoices") == [(0,)]
    assert query("SELECT status, encoding FROM raw.load_manifest WHERE source = 'billing'") == [("rejected", None)]
