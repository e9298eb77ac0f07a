"""End to end through Airflow: ingest DAGs -> kam_nightly via dag.test() on generated extracts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.e2e


def _run(dagbag, dag_id: str, day: date) -> str:
    """dag.test() for one logical date; return the run's final state."""
    dag = dagbag.dags[dag_id]
    run = dag.test(logical_date=datetime(day.year, day.month, day.day, tzinfo=UTC))
    return str(run.state)


@pytest.fixture
def landing(tmp_path: Path, monkeypatch) -> tuple[Path, list[date]]:
    from ingest.landing import complete_days
    from kam_warehouse.generator import GeneratorOptions, generate

    out = tmp_path / "landing"
    generate(GeneratorOptions(out=out, accounts=12, months=13, days=2, seed=11))
    monkeypatch.setenv("KAM_LANDING_DIR", str(out))
    return out, complete_days(out, "billing")


def _marts(db: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM marts.{t} ORDER BY ALL").fetchall()
                for t in ("fct_account_revenue_monthly", "mart_revenue_concentration_monthly")}


def test_ingest_then_nightly_publishes_marts(airflow_db, dagbag, landing, tmp_path, monkeypatch) -> None:
    """Both ingest DAGs then kam_nightly succeed; serving holds the marts and ops.pipeline_runs rows."""
    _, days = landing
    monkeypatch.setenv("KAM_WAREHOUSE_DIR", str(tmp_path / "wh"))
    for dag_id in ("ingest_crm", "ingest_billing", "kam_nightly"):
        assert _run(dagbag, dag_id, days[-1]) == "success", dag_id
    serving = tmp_path / "wh" / "serving.duckdb"
    assert _marts(serving)["fct_account_revenue_monthly"]
    with duckdb.connect(str(serving), read_only=True) as con:
        steps = dict(con.execute("SELECT step, status FROM ops.pipeline_runs WHERE triggered_by='airflow' "
                                 "AND step IN ('load', 'dbt_build', 'quality_gate', 'tiers')").fetchall())
    assert steps == {"load": "success", "dbt_build": "success", "quality_gate": "success", "tiers": "success"}


def test_day_by_day_backfill_equals_one_run(airflow_db, dagbag, landing, tmp_path, monkeypatch) -> None:
    """Ingesting day by day (one run per logical date) gives the same marts as one catch-up run."""
    _, days = landing
    results = {}
    for mode, run_days in (("backfill", days), ("once", days[-1:])):
        monkeypatch.setenv("KAM_WAREHOUSE_DIR", str(tmp_path / mode))
        for day in run_days:
            for dag_id in ("ingest_crm", "ingest_billing"):
                assert _run(dagbag, dag_id, day) == "success", (mode, dag_id, day)
        assert _run(dagbag, "kam_nightly", days[-1]) == "success", mode
        results[mode] = _marts(tmp_path / mode / "serving.duckdb")
    assert results["backfill"] == results["once"]
