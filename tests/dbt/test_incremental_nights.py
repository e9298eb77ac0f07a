"""Incremental nights equal full refreshes (issue 17): after every night of a sequence, every model the
night built incrementally (staging tables, line revenue, the account and group facts, the concentration
ranks by partition) and everything built from them equals a `--full-refresh` of the same warehouse,
row for row.

Two sequences: the hand-made book with one cause per night (a late FX rate and a re-sent line, then a
merge and a re-parented account, then the as-of date moving into the next month with a late rate dated
in the history), and a generated book loaded by ingest day folder by day folder (late invoices,
re-sends, re-parenting, a merge, new rates: whatever the generator's delta days hold).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import book_settings
from dbt_book import ACCOUNTS, insert_rows, write_book
from mart_compare import compare_relations, fetch_relation

from kam_warehouse import dbt
from kam_warehouse.settings import Settings

pytestmark = pytest.mark.e2e

#: schemas dbt builds (seeds and the Python-owned state schemas are not rebuilt by a refresh)
COMPARED_SCHEMAS = ("staging", "intermediate", "marts", "ops")
#: the models a night builds incrementally: each must exist as a table and be compared
INCREMENTAL = {
    "staging.stg_billing__invoice_lines", "staging.stg_billing__invoices", "staging.stg_billing__payments",
    "staging.stg_crm__activities",
    "intermediate.int_invoice_line_revenue", "intermediate.int_concentration_ranked",
    "marts.fct_account_revenue_monthly", "marts.fct_group_revenue_monthly",
}
#: build stamps: when a run built the row, not what it holds (an incremental night keeps older ones)
BUILD_STAMPS = {"intermediate.int_concentration_ranked": ("ranked_at",)}
#: seeds and models only: the data tests do not change what a model holds
RUN = ["build", "--exclude", "resource_type:test resource_type:unit_test"]


def _relations(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select table_schema || '.' || table_name, table_type from information_schema.tables "
            f"where table_schema in {COMPARED_SCHEMAS} order by 1").fetchall()
    tables = {name for name, kind in rows if kind == "BASE TABLE"}
    assert tables >= INCREMENTAL, f"incremental models not built as tables: {INCREMENTAL - tables}"
    return [name for name, _ in rows]


def assert_equals_full_refresh(settings: Settings, scratch: Path, night: str) -> None:
    """Copy the warehouse, rebuild the copy with --full-refresh and compare every relation."""
    scratch.mkdir(parents=True)
    refreshed = book_settings(scratch)
    refreshed.ensure_dirs()
    shutil.copyfile(settings.build_db, refreshed.build_db)
    dbt.invoke(refreshed, [*RUN, "--full-refresh"])
    problems: list[str] = []
    with duckdb.connect(str(settings.build_db), read_only=True) as inc, \
            duckdb.connect(str(refreshed.build_db), read_only=True) as full:
        names = _relations(settings.build_db)
        assert names == _relations(refreshed.build_db)
        for name in names:
            schema, table = name.split(".")
            relation = f'{schema}."{table}"'
            if name in BUILD_STAMPS:
                relation = f"(select * exclude ({', '.join(BUILD_STAMPS[name])}) from {relation}) as r"
            problems += compare_relations(name, fetch_relation(inc.cursor(), relation),
                                          fetch_relation(full.cursor(), relation))
    assert not problems, f"{night}: incremental differs from full refresh:\n" + "\n".join(problems[:20])


def _night(con: duckdb.DuckDBPyConnection, day: dt.date, loaded_at: str) -> None:
    """Stamp the rows inserted for `day` as loaded at `loaded_at` and record the day as loaded."""
    for table in ("billing__fx_rates", "billing__invoices", "billing__invoice_lines", "billing__credit_notes",
                  "crm__accounts"):
        con.execute(f"update raw.{table} set _loaded_at = ? where _extract_day = ?", [loaded_at, day])
    con.execute(
        "insert into raw.load_manifest (file_path, source, entity, extract_day, size_bytes, sha256,"
        " rows_read, rows_loaded, rows_quarantined, batch_id, status, loaded_at)"
        " values ('billing/x/invoices.csv', 'billing', 'invoices', ?, 1, 'x', 1, 1, 0, 'book', 'loaded', ?)",
        [day, loaded_at])


def _account(account_id: str, **changes: object) -> dict[str, object]:
    row = next(r for r in ACCOUNTS if r["account_id"] == account_id)
    return {**row, **changes}


def _invoice(invoice_id: str, account_id: str, day: dt.date, status: str, sent: dt.date) -> dict[str, object]:
    return {"invoice_id": invoice_id, "account_id": account_id, "invoice_date": day,
            "due_date": day + dt.timedelta(days=30), "currency": "CNY", "status": status,
            "updated_at": f"{sent}T00:00:00"}


def _usd_rate(day: dt.date, rate: float) -> dict[str, object]:
    return {"rate_date": day, "currency": "USD", "rate_to_reporting": rate}


def test_hand_made_nights_equal_full_refresh(tmp_path: Path) -> None:
    settings = book_settings(tmp_path / "book")
    settings.ensure_dirs()
    write_book(settings.build_db)
    dbt.invoke(settings, RUN)
    account_cols = list(ACCOUNTS[0])
    line_cols = ["invoice_line_id", "invoice_id", "product_code", "quantity", "unit_price", "amount",
                 "service_start", "service_end", "updated_at"]
    invoice_cols = ["invoice_id", "account_id", "invoice_date", "due_date", "currency", "status", "updated_at"]
    rate_cols = ["rate_date", "currency", "rate_to_reporting"]

    # night 1: a late USD rate (moves C1-2), a re-sent line, a new invoice, a credit note
    day = dt.date(2025, 6, 16)
    with duckdb.connect(str(settings.build_db)) as con:
        insert_rows(con, "raw.billing__fx_rates", rate_cols, [_usd_rate(dt.date(2025, 5, 10), 8.0)], extract_day=day)
        insert_rows(con, "raw.billing__invoice_lines", line_cols, [
            {"invoice_line_id": "A1-202405-1", "invoice_id": "A1-202405", "product_code": "P", "quantity": 1,
             "unit_price": 5000.0, "amount": 5000.0, "service_start": dt.date(2024, 5, 1),
             "service_end": dt.date(2024, 5, 31), "updated_at": "2025-06-16T00:00:00"},
            {"invoice_line_id": "N1-1", "invoice_id": "N1", "product_code": "P", "quantity": 1,
             "unit_price": 900.0, "amount": 900.0, "service_start": dt.date(2025, 6, 1),
             "service_end": dt.date(2025, 8, 31), "updated_at": "2025-06-16T00:00:00"}], extract_day=day)
        insert_rows(con, "raw.billing__invoices", invoice_cols, [_invoice("N1", "C1", day, "issued", day)],
                    extract_day=day)
        insert_rows(con, "raw.billing__credit_notes",
                    ["credit_note_id", "invoice_id", "account_id", "credit_date", "currency", "amount", "reason",
                     "updated_at"],
                    [{"credit_note_id": "CN2", "invoice_id": "B1-202501", "account_id": "B1",
                      "credit_date": dt.date(2025, 1, 20), "currency": "CNY", "amount": 300.0, "reason": "late",
                      "updated_at": "2025-06-16T00:00:00"}], extract_day=day)
        _night(con, day, "2025-06-16 01:00:00")
    dbt.invoke(settings, RUN)
    assert_equals_full_refresh(settings, tmp_path / "night1", "late rate, re-sent line, new invoice, credit note")

    # night 2: D1 merged into C1, B1 re-parented under A1, a voided invoice
    day = dt.date(2025, 6, 17)
    with duckdb.connect(str(settings.build_db)) as con:
        insert_rows(con, "raw.crm__accounts", account_cols, [
            _account("D1", merged_into_account_id="C1", updated_at="2025-06-17T00:00:00"),
            _account("B1", parent_account_id="A1", updated_at="2025-06-17T00:00:00")], extract_day=day)
        insert_rows(con, "raw.billing__invoices", invoice_cols,
                    [_invoice("A1-202502", "A1", dt.date(2025, 2, 1), "void", day)], extract_day=day)
        _night(con, day, "2025-06-17 01:00:00")
    dbt.invoke(settings, RUN)
    assert_equals_full_refresh(settings, tmp_path / "night2", "merge, re-parenting, void")

    # night 3: the as-of date moves into July; a late USD rate dated in the history (moves C1-1)
    day = dt.date(2025, 7, 2)
    with duckdb.connect(str(settings.build_db)) as con:
        insert_rows(con, "raw.billing__fx_rates", rate_cols, [_usd_rate(dt.date(2024, 5, 8), 6.5)], extract_day=day)
        insert_rows(con, "raw.crm__accounts", account_cols, [
            _account("B1", parent_account_id=None, segment="mid_market", updated_at="2025-07-02T00:00:00")],
            extract_day=day)
        _night(con, day, "2025-07-02 01:00:00")
    dbt.invoke(settings, RUN)
    assert_equals_full_refresh(settings, tmp_path / "night3", "as-of month moves, late historic rate, segment")
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        c1 = con.execute("select sum(recognised_revenue) from intermediate.int_invoice_line_revenue "
                         "where invoice_line_id = 'C1-1-1'").fetchone()[0]
    assert float(c1) == 650.0  # 100 USD at the late 6.5 rate of 2024-05-08


def test_generated_nights_equal_full_refresh(tmp_path: Path) -> None:
    from ingest.load import load_landing
    from sample_extracts import GeneratorOptions, generate

    book = tmp_path / "generated"
    generate(GeneratorOptions(out=book, accounts=40, months=15, days=3))
    settings = book_settings(tmp_path / "wh")
    settings.ensure_dirs()
    days = sorted(p.name for p in (book / "billing").iterdir() if p.is_dir())
    assert len(days) >= 3
    for n, day in enumerate(days):
        for source in ("billing", "crm"):
            if (book / source / day).is_dir():
                shutil.copytree(book / source / day, settings.landing_dir / source / day)
        load_landing(settings.landing_dir, settings.build_db, run_id=f"night{n}", rejected_dir=settings.rejected_dir)
        dbt.invoke(settings, RUN)
        if n:
            assert_equals_full_refresh(settings, tmp_path / f"night{n}", f"generated day {day}")
