"""CRM files in UTF-8-BOM, GB18030 and as accounts.xlsx load with correct Chinese text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from ingest.errors import FileRejected
from ingest.load import load_landing

if TYPE_CHECKING:
    from conftest import LandingBuilder

Query = Callable[[str], list[tuple]]


def _accounts_csv(lz: LandingBuilder, encoding: str) -> bytes:
    return lz.csv_text(lz.rows_of(lz.ACCOUNT, 2, "account_id", "A")).encode(encoding)


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("gbk", "gb18030"), ("utf-8", "utf-8")],
)
def test_crm_encodings_decode_to_chinese(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query, encoding: str, expected: str
) -> None:
    """Each allowed CRM encoding is detected, recorded in the manifest and decoded to the right names."""
    lz.write_day("crm", lz.DAY1, {"accounts.csv": _accounts_csv(lz, encoding)})
    load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    assert query("SELECT DISTINCT account_name, region, account_manager FROM raw.crm__accounts") == [
        ("华为技术有限公司", "华南", "王芳")
    ]
    assert query("SELECT encoding, rows_loaded FROM raw.load_manifest") == [(expected, 2)]


def test_gb18030_quarantine_keeps_decoded_raw_line(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """raw_line of a quarantined GB18030 row is the decoded text, not mojibake."""
    rows = [lz.ACCOUNT, {**lz.ACCOUNT, "account_id": "A2", "account_name": "腾讯", "customer_type": "大客户"}]
    lz.write_day("crm", lz.DAY1, {"accounts.csv": lz.csv_text(rows).encode("gb18030")})
    load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    [(line, reason, raw_line)] = query("SELECT line_number, reason, raw_line FROM raw.quarantine")
    assert line == 3 and reason.startswith("bad_enum: customer_type ") and "大客户" not in reason
    assert raw_line.startswith("A2,腾讯,")


def test_accounts_xlsx_loads(lz: LandingBuilder, db: Path, rejected: Path, query: Query) -> None:
    """accounts.xlsx (first sheet, header row) loads like the CSV, line numbers counting the header row."""
    folder = lz.write_day("crm", lz.DAY1, {})
    frame = pd.DataFrame(lz.rows_of(lz.ACCOUNT, 3, "account_id", "A"))
    frame.to_excel(folder / "accounts.xlsx", index=False)
    load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    assert query(
        "SELECT account_id, account_name, is_reference_customer, estimated_annual_budget, _line_number "
        "FROM raw.crm__accounts ORDER BY 1"
    )[0] == ("A1", "华为技术有限公司", True, 1500000, 2)
    assert query("SELECT file_path, encoding, rows_read, rows_loaded FROM raw.load_manifest") == [
        ("crm/2025-01-01/accounts.xlsx", "xlsx", 3, 3)
    ]


def test_billing_accepts_utf8_only(lz: LandingBuilder, db: Path, rejected: Path, query: Query) -> None:
    """A GB18030 billing file is a wrong_encoding rejection even though CRM would accept it."""
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    files = lz.valid_billing()
    files["invoices.csv"] = str(files["invoices.csv"]).replace("CNY", "人民币").encode("gb18030")
    lz.write_day("billing", lz.DAY1, files)
    with pytest.raises(FileRejected, match="wrong_encoding"):
        load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
