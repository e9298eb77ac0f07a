"""Files DuckDB's reader cannot be trusted with load record by record: every physical record is loaded
or quarantined, under its physical line number and with its own text (issue 12's fuzz classes)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ingest.errors import FileRejected
from ingest.load import load_landing

if TYPE_CHECKING:
    from conftest import LandingBuilder

Query = Callable[[str], list[tuple]]

MANIFEST = "SELECT rows_read, rows_loaded, rows_quarantined FROM raw.load_manifest WHERE entity = 'invoice_lines'"
LINES = "SELECT invoice_line_id, _line_number FROM raw.billing__invoice_lines ORDER BY _line_number"


def _load_lines(lz: LandingBuilder, db: Path, rejected: Path, data: bytes) -> None:
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    files = lz.valid_billing(lines=1)
    files["invoice_lines.csv"] = data
    lz.write_day("billing", lz.DAY1, files)
    load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)


def _lines_file(lz: LandingBuilder, n: int) -> str:
    return lz.csv_text(lz.rows_of(lz.LINE, n, "invoice_line_id", "L"))


@pytest.mark.parametrize(
    ("name", "edit"),
    [
        ("one CRLF line in an LF file", lambda t: t.replace("\n", "\r\n", 2).replace("\r\n", "\n", 1)),
        ("CRLF everywhere", lambda t: t.replace("\n", "\r\n")),
        ("CR-only line ends", lambda t: t.replace("\n", "\r")),
        ("a bare CR line end", lambda t: t.replace("\n", "\r", 2).replace("\r", "\n", 1)),
    ],
)
def test_line_end_variants_load_every_row_on_its_line(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query, name: str, edit: Callable[[str], str]
) -> None:
    """Mixed, CRLF and CR-only line ends (DuckDB's "state machine reached an invalid state", Python's
    _csv.Error before) load every row with its physical line number; nothing is quarantined."""
    _load_lines(lz, db, rejected, edit(_lines_file(lz, 4)).encode())
    assert query(LINES) == [("L1", 2), ("L2", 3), ("L3", 4), ("L4", 5)], name
    assert query(MANIFEST) == [(4, 4, 0)]


def test_blank_lines_and_multiline_records_keep_physical_line_numbers(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """After blank lines, a quoted line break and a malformed multi-line record, the bad record on line
    7 is quarantined as line 7 with its own text (not the previous, loaded row's), and loaded rows
    carry their physical lines."""
    bad = 'LB,I1,P1,"two\nlines",2'  # a record over lines 7-8 with too few fields
    text = (
        _lines_file(lz, 1)  # header + L1 on line 2
        + "\n"  # line 3 blank
        + lz.line(invoice_line_id="L2", description="x@y").replace("x@y", '"x\ry"')  # lines 4-5 (CR in quotes)
        + "\r\n"  # line 6 blank (CRLF)
        + bad + "\n"  # lines 7-8
        + lz.line(invoice_line_id="L3")  # line 9
    )
    _load_lines(lz, db, rejected, text.encode())
    assert query(LINES) == [("L1", 2), ("L2", 4), ("L3", 9)]
    [(line, reason, raw_line)] = query("SELECT line_number, reason, raw_line FROM raw.quarantine")
    assert line == 7 and reason.startswith("malformed_row: the record on line 7 ")
    assert raw_line == bad
    assert query(MANIFEST) == [(4, 3, 1)]


def test_huge_quoted_field_then_short_row_balances_the_books(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """40 records, one quoted field of 9 MB of commas and a short row after it: all 40 are read and
    loaded or quarantined (DuckDB's reader returned 5 records for this file)."""
    rows = lz.rows_of(lz.LINE, 40, "invoice_line_id", "L")
    rows[9]["description"] = "," * 9_000_000
    text = lz.csv_text(rows).split("\n")
    text[11] = "L11,I1,P1"  # the record after the huge one is short
    _load_lines(lz, db, rejected, "\n".join(text).encode())
    assert query(MANIFEST) == [(40, 39, 1)]
    assert query("SELECT line_number, reason LIKE 'malformed_row: %' FROM raw.quarantine") == [(12, True)]
    assert query("SELECT max(length(description)) FROM raw.billing__invoice_lines") == [(9_000_000,)]


def test_nul_and_misplaced_quotes_are_framed_like_csv_readers(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """A quote inside an unquoted field (`27" monitor`) is a literal, a NUL byte is data, and a quoted
    field followed by text is one malformed record: no other row is swallowed."""
    text = (
        _lines_file(lz, 1)
        + lz.line(invoice_line_id="L2").replace("support, annual", "27in").replace('"27in"', '27" monitor')
        + lz.line(invoice_line_id="L3", description="nul\x00byte")
        + 'L4,I1,P1,"quoted"tail,2,50.00,100.00,2025-01-01,2025-12-31,2025-01-01T10:00:00\n'
        + lz.line(invoice_line_id="L5")
    )
    _load_lines(lz, db, rejected, text.encode())
    assert query("SELECT invoice_line_id, description FROM raw.billing__invoice_lines ORDER BY 1") == [
        ("L1", "support, annual"), ("L2", '27" monitor'), ("L3", "nul\x00byte"), ("L5", "support, annual")]
    assert query("SELECT line_number FROM raw.quarantine") == [(5,)]
    assert query(MANIFEST) == [(5, 4, 1)]


def test_empty_header_name_rejects_the_file(lz: LandingBuilder, db: Path, rejected: Path, query: Query) -> None:
    """A trailing comma in the header (an empty column name, a BinderException before) rejects the file."""
    text = _lines_file(lz, 2).replace("updated_at\n", "updated_at,\n", 1)
    with pytest.raises(FileRejected) as err:
        _load_lines(lz, db, rejected, text.encode())
    assert err.value.problem == "empty_column_name: invoice_lines.csv header column(s) 11 have no name"
    assert query("SELECT count(*) FROM raw.billing__invoices") == [(0,)]


def _workbook(rows: list[list[str]], blank_rows: int = 0) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    for _ in range(blank_rows):
        wb.active.append([])
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_workbooks_that_cannot_be_read_are_rejected_whole(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """An accounts.xlsx that is a CSV, a truncated (corrupt) workbook and one with its header on row 3
    are each rejected with the file named and copied aside; a good workbook loads."""
    header, row = list(lz.ACCOUNT), list(lz.ACCOUNT.values())
    good = _workbook([header, row])
    cases = {
        "2025-01-01": (lz.csv_text([lz.ACCOUNT]).encode(), "not_a_workbook: accounts.xlsx is not an Excel workbook"),
        "2025-01-02": (good[: len(good) // 2], "unreadable_workbook: accounts.xlsx cannot be read as a workbook"),
        "2025-01-03": (_workbook([header, row], blank_rows=2), "header_not_on_first_row: accounts.xlsx: the header "
                       "is on line 3, it must be line 1"),
    }
    for day, (data, problem) in cases.items():
        landing = lz.root / day
        builder = type(lz)(landing)
        builder.write_day("crm", lz.DAY1, {"accounts.xlsx": data})
        with pytest.raises(FileRejected) as err:
            load_landing(landing, db.with_name(f"{day}.duckdb"), run_id="r1", rejected_dir=rejected / day)
        assert err.value.file == "crm/2025-01-01/accounts.xlsx" and err.value.problem.startswith(problem)
        assert (rejected / day / "crm" / "2025-01-01" / "accounts.xlsx").read_bytes() == data
    lz.write_day("crm", lz.DAY1, {"accounts.xlsx": good})
    load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    assert query("SELECT account_id, _line_number FROM raw.crm__accounts") == [("A1", 2)]


def test_unclosed_quote_in_a_long_field_is_quarantined_quickly(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """A quote opening a long field that never closes (the fuzzer's hang: exponential regex
    backtracking) is one malformed record, found in well under a second of parsing."""
    text = _lines_file(lz, 2) + 'L3,I1,P1,"' + "x" * 200 + '""y' * 50 + "\n"
    _load_lines(lz, db, rejected, text.encode())
    assert query("SELECT line_number, reason LIKE 'truncated_last_line: %' FROM raw.quarantine") == [(4, True)]
    assert query(MANIFEST) == [(3, 2, 1)]
