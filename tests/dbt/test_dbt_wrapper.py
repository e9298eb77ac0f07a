"""kam_warehouse.dbt: failures surface as StepFailed naming the node; incremental equals full
refresh; docs generate works offline."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from conftest import book_settings
from dbt_book import AS_OF, insert_rows, write_book

from kam_warehouse import dbt
from kam_warehouse.errors import StepFailed
from kam_warehouse.settings import Settings

# only the selected models' own tests: the reconciliation and the relationship tests also read models
# outside this selection
SELECT = ["build", "--select", "+int_invoice_line_revenue", "--indirect-selection", "cautious"]
REVENUE_SQL = ("select invoice_line_id, revenue_month, round(recognised_revenue, 6) "
               "from intermediate.int_invoice_line_revenue order by 1, 2")


def _fetch(settings: Settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_failed_model_raises_step_failed_naming_the_node(tmp_path) -> None:
    """A model that fails at run time (an invalid as_of_date var) raises StepFailed naming it."""
    settings = book_settings(tmp_path)
    settings.ensure_dirs()
    write_book(settings.build_db)
    with pytest.raises(StepFailed) as caught:
        dbt.build(settings, select="int_as_of_date", vars={"as_of_date": "not-a-date"})
    assert "model.kam_warehouse.int_as_of_date" in str(caught.value)


def test_incremental_run_equals_full_refresh_and_docs_generate(tmp_path) -> None:
    """After a re-sent line and a late FX rate arrive, the incremental recognised-revenue model
    equals a full refresh; `dbt docs generate --static` then writes a self-contained page."""
    settings = book_settings(tmp_path)
    settings.ensure_dirs()
    write_book(settings.build_db)
    dbt.invoke(settings, SELECT)
    con = duckdb.connect(str(settings.build_db))
    try:
        later = dt.date(2025, 6, 16)
        insert_rows(con, "raw.billing__fx_rates", ["rate_date", "currency", "rate_to_reporting"],
                    [{"rate_date": dt.date(2025, 5, 10), "currency": "USD", "rate_to_reporting": 8.0}],
                    extract_day=later)
        line = {"invoice_line_id": "A1-202405-1", "invoice_id": "A1-202405", "product_code": "P",
                "quantity": 1, "unit_price": 5000.0, "amount": 5000.0, "service_start": dt.date(2024, 5, 1),
                "service_end": dt.date(2024, 5, 31), "updated_at": "2025-06-16T00:00:00"}
        insert_rows(con, "raw.billing__invoice_lines", list(line), [line], extract_day=later)
        con.execute("update raw.billing__fx_rates set _loaded_at = now() where _extract_day = ?", [later])
        con.execute("update raw.billing__invoice_lines set _loaded_at = now() where _extract_day = ?", [later])
    finally:
        con.close()
    dbt.invoke(settings, SELECT)
    incremental = _fetch(settings, REVENUE_SQL)
    assert ("A1-202405-1", dt.date(2024, 5, 1), 5000.0) in incremental
    assert ("C1-2-1", dt.date(2025, 5, 1), 2400.0) in incremental  # 300 USD at the late 8.0 rate
    dbt.invoke(settings, [*SELECT, "--full-refresh"])
    assert _fetch(settings, REVENUE_SQL) == incremental

    dbt.invoke(settings, ["docs", "generate", "--static"])
    page = dbt.dbt_state_dir(settings) / "target" / "static_index.html"
    assert page.exists() and "int_invoice_line_revenue" in page.read_text(encoding="utf-8")
    assert later > AS_OF
