"""dbt build on data from the sample generator, loaded by ingest: every model, data test, unit test and
the revenue reconciliation pass, and the reconciliation is checked once more from Python."""

from __future__ import annotations

import duckdb
import pytest
from conftest import book_settings

from kam_warehouse import dbt

pytestmark = pytest.mark.e2e


def test_generated_extracts_build_and_reconcile(tmp_path) -> None:
    """Generated extracts (small, clean) load and build with every test passing (incl. the singular
    reconciliation to staging), and per month the account fct sums to the group fct."""
    generator = pytest.importorskip("kam_warehouse.generator")
    load = pytest.importorskip("ingest.load")
    settings = book_settings(tmp_path)
    settings.ensure_dirs()
    generator.generate(generator.GeneratorOptions(out=settings.landing_dir, accounts=40, months=15, days=1))
    load.load_landing(settings.landing_dir, settings.build_db, run_id="t", rejected_dir=settings.rejected_dir)
    result = dbt.build(settings)
    assert not result.failed_nodes
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        mismatches = con.execute("""
            with a as (select revenue_month, sum(revenue) r from marts.fct_account_revenue_monthly group by 1),
                 g as (select revenue_month, sum(revenue) r from marts.fct_group_revenue_monthly group by 1)
            select count(*) from a full join g using (revenue_month)
            where abs(coalesce(a.r, 0) - coalesce(g.r, 0)) >= 0.01""").fetchone()[0]
        months = con.execute("select count(distinct revenue_month) from marts.fct_account_revenue_monthly").fetchone()[0]
    finally:
        con.close()
    assert months >= 12
    assert mismatches == 0
