"""Fixtures of the ingest tests: a landing root, a build DB path and a rejected folder in tmp_path."""

from __future__ import annotations

import csv
import io
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from ingest.contract import entity

DAY1, DAY2, DAY3 = date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3)

ACCOUNT = {
    "account_id": "A1",
    "account_name": "华为技术有限公司",
    "parent_account_id": "",
    "merged_into_account_id": "",
    "industry": "telecom",
    "region": "华南",
    "segment": "enterprise",
    "customer_type": "economic",
    "account_manager": "王芳",
    "estimated_annual_budget": "1500000",
    "is_reference_customer": "true",
    "created_at": "2024-01-01T09:00:00",
    "updated_at": "2024-12-31T09:00:00",
}
INVOICE = {
    "invoice_id": "I1",
    "account_id": "A1",
    "invoice_date": "2025-01-01",
    "due_date": "2025-01-31",
    "currency": "CNY",
    "status": "issued",
    "updated_at": "2025-01-01T10:00:00",
}
LINE = {
    "invoice_line_id": "L1",
    "invoice_id": "I1",
    "product_code": "P1",
    "description": "support, annual",
    "quantity": "2",
    "unit_price": "50.00",
    "amount": "100.00",
    "service_start": "2025-01-01",
    "service_end": "2025-12-31",
    "updated_at": "2025-01-01T10:00:00",
}
PAYMENT = {
    "payment_id": "PAY1",
    "invoice_id": "I1",
    "account_id": "A1",
    "payment_date": "2025-01-05",
    "currency": "CNY",
    "amount": "100.00",
    "updated_at": "2025-01-05T10:00:00",
}


class LandingBuilder:
    """Writes small landing day folders under `root` (tests cannot import helpers in importlib mode)."""

    DAY1, DAY2, DAY3 = DAY1, DAY2, DAY3
    ACCOUNT, INVOICE, LINE, PAYMENT = ACCOUNT, INVOICE, LINE, PAYMENT

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def rows_of(
        template: dict[str, str], n: int, key: str, prefix: str, **fixed: str
    ) -> list[dict[str, str]]:
        """n copies of `template` with keys prefix1..prefixn."""
        return [{**template, key: f"{prefix}{i}", **fixed} for i in range(1, n + 1)]

    @staticmethod
    def csv_text(rows: list[dict[str, str]], header: list[str] | None = None) -> str:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        cols = header or list(rows[0])
        w.writerow(cols)
        for r in rows:
            w.writerow([r.get(c, "") for c in cols])
        return out.getvalue()

    @staticmethod
    def header_only(source: str, name: str) -> str:
        return ",".join(entity(source, name).column_names) + "\n"

    def write_day(
        self, source: str, day: date, files: dict[str, str | bytes], *, complete: bool = True
    ) -> Path:
        folder = self.root / source / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            (folder / name).write_bytes(data)
        if complete:
            (folder / "_SUCCESS").write_bytes(b"")
        return folder

    def valid_crm(self, n: int = 3) -> dict[str, str | bytes]:
        return {"accounts.csv": self.csv_text(self.rows_of(ACCOUNT, n, "account_id", "A"))}

    def valid_billing(self, invoices: int = 2, lines: int = 4) -> dict[str, str | bytes]:
        return {
            "invoices.csv": self.csv_text(self.rows_of(INVOICE, invoices, "invoice_id", "I")),
            "invoice_lines.csv": self.csv_text(self.rows_of(LINE, lines, "invoice_line_id", "L")),
            "payments.csv": self.csv_text(self.rows_of(PAYMENT, 1, "payment_id", "PAY")),
        }

    def line(self, **changes: str) -> str:
        """One invoice_lines CSV line (with newline): LINE with key LX and `changes` applied."""
        row = {**LINE, "invoice_line_id": "LX", **changes}
        return self.csv_text([row]).split("\n", 1)[1]


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return tmp_path / "landing"


@pytest.fixture
def lz(landing: Path) -> LandingBuilder:
    return LandingBuilder(landing)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "wh" / "build.duckdb"


@pytest.fixture
def rejected(tmp_path: Path) -> Path:
    return tmp_path / "rejected"


@pytest.fixture
def query(db: Path) -> Callable[[str], list[tuple]]:
    def run(sql: str) -> list[tuple]:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute(sql).fetchall()

    return run


# the fuzz test shares its mutations, case runner and record oracle with benchmarks/fuzz_ingest.py
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
# hypothesis keeps caches under ./.hypothesis by default: tests must not write into the repo
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="kam-hypothesis-"))
