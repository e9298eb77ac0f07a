"""Row-level defect classes land in raw.quarantine with the expected reason; the rest of the file loads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ingest.load import load_landing

if TYPE_CHECKING:
    from conftest import LandingBuilder

Query = Callable[[str], list[tuple]]


def _load(lz: LandingBuilder, db: Path, rejected: Path, billing: dict[str, str | bytes]) -> None:
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    lz.write_day("billing", lz.DAY1, billing)
    load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)


def _with_lines(lz: LandingBuilder, extra: str) -> dict[str, str | bytes]:
    files = lz.valid_billing(lines=3)
    files["invoice_lines.csv"] = str(files["invoice_lines.csv"]) + extra
    return files


@pytest.mark.parametrize(
    ("defect", "changes", "column", "needle"),
    [
        ("bad_date", {"service_start": "2025-13-45"}, "service_start", "2025-13-45"),
        ("bad_date", {"updated_at": "yesterday"}, "updated_at", "yesterday"),
        ("non_numeric_amount", {"amount": "12,5x"}, "amount", "12,5x"),
        ("negative_quantity", {"quantity": "-3"}, "quantity", "-3"),
        ("unknown_invoice", {"invoice_id": "I999"}, "invoice_id", "I999"),
        ("missing_value", {"product_code": ""}, "product_code", "product_code"),
    ],
)
def test_bad_row_is_quarantined_with_reason_and_raw_line(
    lz: LandingBuilder,
    db: Path,
    rejected: Path,
    query: Query,
    defect: str,
    changes: dict[str, str],
    column: str,
    needle: str,
) -> None:
    """A row failing one contract check is quarantined naming the defect class, column and line, never
    the value (reasons are published); raw_line keeps the record's text; the valid rows still load."""
    bad_row = lz.line(**changes)
    _load(lz, db, rejected, _with_lines(lz, bad_row))
    q = query("SELECT line_number, column_name, reason, raw_line FROM raw.quarantine")
    assert len(q) == 1
    line, col, reason, raw_line = q[0]
    assert (line, col) == (5, column)
    assert reason.startswith(f"{defect}: {column} ") and (needle == column or needle not in reason)
    assert raw_line == bad_row.rstrip("\n")
    assert query("SELECT count(*) FROM raw.billing__invoice_lines") == [(3,)]


def test_unknown_account_is_quarantined(lz: LandingBuilder, db: Path, rejected: Path, query: Query) -> None:
    """An invoice for an account never delivered by the CRM is quarantined as unknown_account."""
    files = lz.valid_billing()
    files["invoices.csv"] = lz.csv_text(
        [
            *lz.rows_of(lz.INVOICE, 2, "invoice_id", "I"),
            {**lz.INVOICE, "invoice_id": "I9", "account_id": "NOPE"},
        ]
    )
    _load(lz, db, rejected, files)
    assert query("SELECT line_number, reason FROM raw.quarantine") == [
        (4, "unknown_account: account_id not found in crm.accounts")
    ]


def test_reference_to_same_day_record_is_valid(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """Lines may reference an invoice delivered in the same day folder (invoices load first)."""
    _load(lz, db, rejected, lz.valid_billing(invoices=1, lines=2))
    assert query("SELECT count(*) FROM raw.quarantine") == [(0,)]


def test_conflicting_duplicate_key_quarantines_every_copy(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """Two rows with one key and different values: both quarantined (duplicate_key_conflict), none loaded."""
    _load(lz, db, rejected, _with_lines(lz, lz.line(invoice_line_id="L1", amount="999.00")))
    q = query("SELECT line_number, reason FROM raw.quarantine ORDER BY 1")
    assert [line for line, _ in q] == [2, 5]
    assert all(r == "duplicate_key_conflict: invoice_line_id appears 2 times with different values "
               "(first at line 2)" for _, r in q)
    assert query("SELECT count(*) FROM raw.billing__invoice_lines WHERE invoice_line_id = 'L1'") == [(0,)]


def test_identical_duplicate_keeps_one(lz: LandingBuilder, db: Path, rejected: Path, query: Query) -> None:
    """An exact repeat of a row loads once; the repeat is counted as quarantined with reason duplicate."""
    files = lz.valid_billing(lines=2)
    files["invoice_lines.csv"] = (
        str(files["invoice_lines.csv"]) + str(files["invoice_lines.csv"]).split("\n", 2)[1] + "\n"
    )
    _load(lz, db, rejected, files)
    assert query("SELECT line_number, reason FROM raw.quarantine") == [
        (4, "duplicate: invoice_line_id repeats line 2")
    ]
    assert query("SELECT _line_number FROM raw.billing__invoice_lines WHERE invoice_line_id = 'L1'") == [(2,)]
    assert query(
        "SELECT rows_read, rows_loaded, rows_quarantined FROM raw.load_manifest "
        "WHERE entity = 'invoice_lines'"
    ) == [(3, 2, 1)]


@pytest.mark.parametrize("tail", ['LX,I1,P1,"unterminated', "LX,I1,P1\n"])
def test_truncated_last_line_is_quarantined(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query, tail: str
) -> None:
    """A last line cut short (too few fields or an open quote) is quarantined as truncated_last_line."""
    _load(lz, db, rejected, _with_lines(lz, tail))
    q = query("SELECT line_number, reason, raw_line FROM raw.quarantine")
    assert len(q) == 1
    assert q[0][0] == 5 and q[0][1].startswith("truncated_last_line: ") and q[0][2] == tail.rstrip("\n")
    assert query("SELECT count(*) FROM raw.billing__invoice_lines") == [(3,)]


def test_line_numbers_count_physical_lines_across_quoted_newlines(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """_line_number is the physical line even when an earlier record holds a quoted line break."""
    files = lz.valid_billing(lines=1)
    files["invoice_lines.csv"] = (
        str(files["invoice_lines.csv"])
        + lz.line(invoice_line_id="L2", description="two\nlines")
        + lz.line(invoice_line_id="L3")
    )
    _load(lz, db, rejected, files)
    assert query(
        "SELECT invoice_line_id, _line_number, description FROM raw.billing__invoice_lines ORDER BY 2"
    ) == [("L1", 2, "support, annual"), ("L2", 3, "two\nlines"), ("L3", 5, "support, annual")]


def test_enum_and_boolean_checks(lz: LandingBuilder, db: Path, rejected: Path, query: Query) -> None:
    """Values outside an enum or not true/false are quarantined; typed values load as BOOLEAN."""
    accounts = [
        lz.ACCOUNT,
        {**lz.ACCOUNT, "account_id": "A2", "customer_type": "vip"},
        {**lz.ACCOUNT, "account_id": "A3", "is_reference_customer": "yes"},
    ]
    lz.write_day("crm", lz.DAY1, {"accounts.csv": lz.csv_text(accounts)})
    load_landing(lz.root, db, run_id="r1", rejected_dir=rejected, sources=["crm"])
    reasons = [r for (r,) in query("SELECT reason FROM raw.quarantine ORDER BY line_number")]
    assert reasons == ["bad_enum: customer_type is not one of economic/important/group/strategic",
                       "bad_boolean: is_reference_customer is not true/false"]
    assert query("SELECT account_id, is_reference_customer FROM raw.crm__accounts") == [("A1", True)]
