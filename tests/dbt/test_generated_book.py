"""dbt build on data from the sample generator, loaded by ingest: every model, data test, unit test and
the revenue reconciliation pass, and the reconciliation is checked once more from Python."""

from __future__ import annotations

import duckdb
import pytest

pytestmark = pytest.mark.e2e


def test_generated_extracts_build_and_reconcile(generated_build) -> None:
    """Generated extracts (small, clean) load and build with every test passing (incl. the singular
    reconciliation to staging), and per month the account fct sums to the group fct."""
    assert not generated_build.result.failed_nodes
    con = duckdb.connect(str(generated_build.settings.build_db), read_only=True)
    try:
        mismatches = con.execute("""
            with a as (select revenue_month, sum(revenue) r from marts.fct_account_revenue_monthly group by 1),
                 g as (select revenue_month, sum(revenue) r from marts.fct_group_revenue_monthly group by 1)
            select count(*) from a full join g using (revenue_month)
            where a.r is distinct from g.r""").fetchone()[0]
        months = con.execute("select count(distinct revenue_month) from marts.fct_account_revenue_monthly").fetchone()[0]
    finally:
        con.close()
    assert months >= 12
    assert mismatches == 0
