"""A small hand-made book of billing + CRM records, written straight into the raw tables.

Covers: monthly, partial-month and annual prepaid lines; a USD line (FX lookup); a re-sent line
version; a void invoice; a credit note; a merge (A3 -> A2) below a parent (A2 -> A1); a parent cycle
(E1 <-> F1); churn and reactivation (D1); a prospect with open pipeline only (P1); revenue after the
as-of date (deferred).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from ingest.contract import ENTITIES, LINEAGE_COLUMNS
from ingest.schema import ensure_raw_schema

AS_OF = dt.date(2025, 6, 15)
D = dt.date.fromisoformat
T0 = "2024-01-01T00:00:00"

Row = dict[str, Any]


def _acct(account_id: str, parent: str | None = None, merged: str | None = None, *,
          customer_type: str = "economic", segment: str = "enterprise", budget: float | None = None,
          reference: bool = False) -> Row:
    return {
        "account_id": account_id, "account_name": f"Account {account_id}", "parent_account_id": parent,
        "merged_into_account_id": merged, "industry": "manufacturing", "region": "east",
        "segment": segment, "customer_type": customer_type, "account_manager": "km1",
        "estimated_annual_budget": budget, "is_reference_customer": reference,
        "created_at": T0, "updated_at": T0,
    }


ACCOUNTS: list[Row] = [
    _acct("A1", budget=500_000, reference=True),
    _acct("A2", parent="A1"),
    _acct("A3", merged="A2"),
    _acct("B1", customer_type="important", segment="upper_mid_market"),
    _acct("C1", customer_type="strategic"),
    _acct("D1", segment="mid_market"),
    _acct("E1", parent="F1"),
    _acct("F1", parent="E1"),
    _acct("P1", customer_type="strategic"),
]

INVOICES: list[Row] = []
LINES: list[Row] = []


def _month_end(d: dt.date) -> dt.date:
    nxt = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def _invoice(inv: str, account: str, day: str, lines: list[tuple[float, str, str]], *,
             currency: str = "CNY", status: str = "issued") -> None:
    INVOICES.append({
        "invoice_id": inv, "account_id": account, "invoice_date": D(day),
        "due_date": D(day) + dt.timedelta(days=30), "currency": currency, "status": status,
        "updated_at": f"{day}T00:00:00",
    })
    for i, (amount, start, end) in enumerate(lines, 1):
        LINES.append({
            "invoice_line_id": f"{inv}-{i}", "invoice_id": inv, "product_code": "P", "description": None,
            "quantity": 1, "unit_price": amount, "amount": amount, "service_start": D(start),
            "service_end": D(end), "updated_at": f"{day}T00:00:00",
        })


def _monthly(account: str, amount: float, first: str, last: str) -> None:
    m = D(first)
    while m <= D(last):
        _invoice(f"{account}-{m:%Y%m}", account, m.isoformat(),
                 [(amount, m.isoformat(), _month_end(m).isoformat())])
        m = _month_end(m) + dt.timedelta(days=1)


# A1: 1000 every month Jan 2024 .. Jun 2025
_monthly("A1", 1000.0, "2024-01-01", "2025-06-01")
# A2: a partial-period line (17/31 of March, 14/30 of April) and an annual prepaid line
_invoice("A2-P", "A2", "2024-03-15", [(3100.0, "2024-03-15", "2024-04-14")])
_invoice("A2-Y", "A2", "2024-07-01", [(12000.0, "2024-07-01", "2025-06-30")])
# A3 (merged into A2): one month; the line is re-sent later with a corrected amount (2000 wins)
_invoice("A3-1", "A3", "2024-02-01", [(1500.0, "2024-02-01", "2024-02-29")])
# B1: bigger spender, a void invoice, and an annual line mostly after the as-of date (deferred)
_monthly("B1", 5000.0, "2024-01-01", "2024-12-01")
_monthly("B1", 6000.0, "2025-01-01", "2025-05-01")
_invoice("B1-VOID", "B1", "2024-06-10", [(99999.0, "2024-06-01", "2024-06-30")], status="void")
_invoice("B1-Y", "B1", "2025-06-01", [(24000.0, "2025-06-01", "2026-05-31")])
# C1: a USD invoice dated between two rates (uses the earlier one: 7.0)
_invoice("C1-1", "C1", "2024-05-10", [(100.0, "2024-05-01", "2024-05-31")], currency="USD")
_invoice("C1-2", "C1", "2025-05-20", [(300.0, "2025-05-01", "2025-05-31")], currency="USD")
# D1: revenue, a gap month, reactivation, then churn
_invoice("D1-1", "D1", "2024-03-01", [(2000.0, "2024-03-01", "2024-03-31")])
_invoice("D1-2", "D1", "2024-05-01", [(2000.0, "2024-05-01", "2024-05-31")])
_invoice("D1-3", "D1", "2024-06-01", [(2500.0, "2024-06-01", "2024-06-30")])
# E1: revenue in a parent cycle
_invoice("E1-1", "E1", "2025-03-01", [(500.0, "2025-03-01", "2025-03-31")])
# an invoice after the as-of date: not yet known to the marts
_invoice("A1-LATE", "A1", "2025-06-20", [(777.0, "2025-06-01", "2025-06-30")])

LINE_RESENDS: list[Row] = [
    {**next(r for r in LINES if r["invoice_line_id"] == "A3-1-1"), "amount": 2000.0,
     "unit_price": 2000.0, "updated_at": "2024-02-10T00:00:00"},
]

CREDIT_NOTES: list[Row] = [
    {"credit_note_id": "CN1", "invoice_id": "A1-202406", "account_id": "A1", "credit_date": D("2024-06-20"),
     "currency": "CNY", "amount": 200.0, "reason": "discount", "updated_at": "2024-06-20T00:00:00"},
]

FX_RATES: list[Row] = [
    {"rate_date": D("2024-05-01"), "currency": "USD", "rate_to_reporting": 7.0},
    {"rate_date": D("2024-05-15"), "currency": "USD", "rate_to_reporting": 7.2},
    {"rate_date": D("2025-05-01"), "currency": "USD", "rate_to_reporting": 7.1},
]

PAYMENTS: list[Row] = [
    {"payment_id": "PAY1", "invoice_id": "A1-202505", "account_id": "A1", "payment_date": D("2025-06-05"),
     "currency": "CNY", "amount": 1000.0, "updated_at": "2025-06-05T00:00:00"},
    {"payment_id": "PAY2", "invoice_id": "A1-202404", "account_id": "A1", "payment_date": D("2024-12-01"),
     "currency": "CNY", "amount": 1000.0, "updated_at": "2024-12-01T00:00:00"},
]

CONTACTS: list[Row] = [
    {"contact_id": "K1", "account_id": "A1", "full_name": "Wang Wei", "email": "wang@example.com",
     "phone": "+86 10 1234", "role": "cfo", "is_primary": True, "updated_at": "2024-01-01T00:00:00"},
]

OPPORTUNITIES: list[Row] = [
    {"opportunity_id": "O1", "account_id": "P1", "stage": "proposal", "amount": 100000.0, "currency": "CNY",
     "probability": 0.5, "expected_close_date": D("2025-09-30"), "updated_at": "2025-05-01T00:00:00"},
    {"opportunity_id": "O2", "account_id": "A1", "stage": "won", "amount": 50000.0, "currency": "CNY",
     "probability": 1.0, "expected_close_date": D("2025-01-31"), "updated_at": "2025-01-31T00:00:00"},
]

ACTIVITIES: list[Row] = [
    {"activity_id": "V1", "account_id": "A1", "activity_type": "executive_visit",
     "activity_date": D("2025-05-20"), "updated_at": "2025-05-20T00:00:00"},
    {"activity_id": "V2", "account_id": "B1", "activity_type": "call",
     "activity_date": D("2024-11-02"), "updated_at": "2024-11-02T00:00:00"},
]

TABLES: dict[str, list[Row]] = {
    "billing__invoices": INVOICES,
    "billing__invoice_lines": LINES + LINE_RESENDS,
    "billing__credit_notes": CREDIT_NOTES,
    "billing__payments": PAYMENTS,
    "billing__fx_rates": FX_RATES,
    "crm__accounts": ACCOUNTS,
    "crm__contacts": CONTACTS,
    "crm__opportunities": OPPORTUNITIES,
    "crm__activities": ACTIVITIES,
}


def write_book(db_path: Path, as_of: dt.date = AS_OF) -> None:
    """Create the raw schema in `db_path` and write the book plus a manifest row for `as_of`."""
    con = duckdb.connect(str(db_path))
    try:
        ensure_raw_schema(con)
        for e in ENTITIES:
            rows = TABLES[f"{e.source}__{e.name}"]
            insert_rows(con, e.raw_table, list(e.column_names), rows, extract_day=as_of)
        con.execute(
            "insert into raw.load_manifest (file_path, source, entity, extract_day, size_bytes, sha256,"
            " rows_read, rows_loaded, rows_quarantined, batch_id, status, loaded_at)"
            " values ('billing/x/invoices.csv', 'billing', 'invoices', ?, 1, 'x', 1, 1, 0, 'book', 'loaded', now())",
            [as_of])
    finally:
        con.close()


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: list[Row], *,
                extract_day: dt.date) -> None:
    """Insert contract rows with lineage columns (line numbers in list order, so later rows win ties)."""
    if not rows:
        return
    frame = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)
    lineage = [name for name, _ in LINEAGE_COLUMNS]
    frame["_source_file"] = f"{table}.csv"
    frame["_line_number"] = range(2, len(frame) + 2)
    frame["_batch_id"] = "book"
    frame["_extract_day"] = extract_day
    frame["_loaded_at"] = pd.Timestamp("2025-06-15 01:00:00")
    con.register("book_rows", frame)
    cols = ", ".join([*columns, *lineage])
    con.execute(f"insert into {table} ({cols}) select {cols} from book_rows")
    con.unregister("book_rows")
