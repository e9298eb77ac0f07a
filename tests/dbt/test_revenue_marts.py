"""The revenue marts built by real dbt over the hand-made book, checked against an independent
plain-Python computation of the definitions (dbt_reference)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import dbt_reference as ref
import duckdb
import pytest
from dbt_book import AS_OF, TABLES


@pytest.fixture(scope="module")
def expected() -> ref.Book:
    return ref.recognise(TABLES, AS_OF)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_account_monthly_revenue_and_movement_match_reference(book_db, expected) -> None:
    """Every account-month of fct_account_revenue_monthly (revenue to the cent, movement) equals the
    reference spine: survivors, FX, month weights, credit notes, void and deferral all applied."""
    want = ref.spine(expected.revenue, expected.as_of_month)
    got = {(a, m): (r, mv) for a, m, r, mv in _rows(
        book_db, "select account_id, revenue_month, revenue, movement from marts.fct_account_revenue_monthly")}
    assert set(got) == set(want)
    for key, row in want.items():
        assert float(got[key][0]) == pytest.approx(row.revenue, abs=0.005), key
        assert got[key][1] == row.movement, key


def test_merged_account_revenue_goes_to_survivor(book_db) -> None:
    """A3 (merged into A2) has no rows of its own; its February revenue (re-sent version: 2000) is A2's."""
    assert _rows(book_db, "select count(*) from marts.fct_account_revenue_monthly where account_id = 'A3'") == [(0,)]
    assert _rows(book_db, "select revenue, movement from marts.fct_account_revenue_monthly "
                          "where account_id = 'A2' and revenue_month = date '2024-02-01'") == [(2000.0, "new")]


def test_deferred_and_void_revenue_excluded(book_db) -> None:
    """No month after the as-of month; the void invoice counts nothing; B1's annual line gives June 1/12 only."""
    assert _rows(book_db, "select max(revenue_month) from marts.fct_account_revenue_monthly") == [
        (dt.date(2025, 6, 1),)]
    assert _rows(book_db, "select revenue from marts.fct_account_revenue_monthly "
                          "where account_id = 'B1' and revenue_month = date '2024-06-01'") == [(5000.0,)]
    assert _rows(book_db, "select revenue from marts.fct_account_revenue_monthly "
                          "where account_id = 'B1' and revenue_month = date '2025-06-01'") == [(2000.0,)]


def test_group_monthly_revenue_matches_reference(book_db, expected) -> None:
    """fct_group_revenue_monthly sums members through merges (A3 -> A2 -> group A1) per the reference."""
    want = ref.spine(ref.roll_up(expected.revenue, expected.group), expected.as_of_month)
    got = {(g, m): (r, mv) for g, m, r, mv in _rows(
        book_db, "select group_id, revenue_month, revenue, movement from marts.fct_group_revenue_monthly")}
    assert set(got) == set(want)
    for key, row in want.items():
        assert float(got[key][0]) == pytest.approx(row.revenue, abs=0.005), key
        assert got[key][1] == row.movement, key


def test_dim_account_groups_and_cycle_report(book_db) -> None:
    """dim_account maps A3 (merged) and A2 to group A1; the E1<->F1 parent loop is resolved to E1 and
    listed in ops.account_hierarchy_issues instead of looping."""
    groups = dict(_rows(book_db, "select account_id, group_id from marts.dim_account"))
    assert groups["A2"] == groups["A3"] == groups["A1"] == "A1"
    assert groups["E1"] == groups["F1"] == "E1"
    issues = _rows(book_db, "select account_id, status from ops.account_hierarchy_issues order by 1")
    assert issues == [("E1", "cycle"), ("F1", "cycle")]


def test_contact_pii_is_hashed(book_db) -> None:
    """Staging keeps only sha256 digests of contact names, e-mails and phones."""
    cols = {c for (c,) in _rows(book_db, "select column_name from information_schema.columns "
                                          "where table_name = 'stg_crm__contacts'")}
    assert not {"full_name", "email", "phone"} & cols
    digest = _rows(book_db, "select email_sha256 from staging.stg_crm__contacts")[0][0]
    assert len(digest) == 64 and "@" not in digest


MONEY_COLUMNS = {
    "fct_account_revenue_monthly": ("revenue", "previous_revenue", "revenue_t12m"),
    "fct_group_revenue_monthly": ("revenue", "previous_revenue", "revenue_t12m"),
    "mart_revenue_concentration_monthly": ("total_revenue",),
    "mart_retention_monthly": ("base_revenue_t12m", "retained_revenue_t12m"),
    "mart_retention_cohorts": ("revenue",),
    "mart_account_health": ("revenue_as_of_month", "trailing_avg_revenue_12m", "open_pipeline_weighted"),
}


def test_money_is_a_fixed_scale_decimal(book_db) -> None:
    """Money columns of the marts are DECIMAL(38,6) (docs/data-model.md), not floating point, so sums
    are exact and equal on every engine; an annual line of 12000 gives exactly 1000 a month."""
    types = {(t, c): typ for t, c, typ in _rows(
        book_db, "select table_name, column_name, data_type from information_schema.columns "
                 "where table_schema = 'marts'")}
    for table, columns in MONEY_COLUMNS.items():
        for column in columns:
            assert types[(table, column)] == "DECIMAL(38,6)", (table, column)
    a2 = _rows(book_db, "select recognised_revenue from intermediate.int_invoice_line_revenue "
                        "where invoice_line_id = 'A2-Y-1' order by revenue_month")
    assert [r for (r,) in a2] == [Decimal("1000.000000")] * 12
