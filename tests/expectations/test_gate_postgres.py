"""The quality gate on a PostgreSQL build warehouse: the same GX checks and suites through a PostgreSQL
datasource (no DuckDB workaround), the same verdicts and failure lines as on DuckDB (tests/expectations/
test_gate.py), recorded in ops.dq_results of the build database. The good build is the DuckDB one of
conftest.py copied into a fresh PostgreSQL database per test (no dbt: the dbt half is its artifacts)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pytest

from expectations import gx_duckdb_compat
from expectations.checks import ALL_CHECKS
from expectations.gate import run_gate
from expectations.results import DQ_RESULTS_COLUMNS, GateResult
from kam_warehouse.core.warehouse import Warehouse, connect

sys.path.insert(0, str(Path(__file__).parent))

from gate_defects import BAD_DATA, NARROW_LOADS, NARROW_NEW_KEY_LOST  # the DuckDB tests' own defects


def _gate(build: Warehouse, config_dir: Path, tmp_path: Path, dbt_target: Path | None, run_id: str) -> GateResult:
    return run_gate(build, run_id=run_id, config_dir=config_dir, data_docs_dir=tmp_path / "docs",
                    dbt_target_dir=dbt_target, checks=ALL_CHECKS)


def _run(build: Warehouse, sql: str) -> None:
    with connect(build) as con:
        con.execute(sql)


def test_good_postgres_build_passes_and_records_every_check(pg_good_build: Warehouse, config_dir: Path,
                                                            tmp_path: Path, dbt_target: Path) -> None:
    """Every check passes on the good build; one ops.dq_results row per check with its home, in the
    PostgreSQL build database, the table and its columns commented."""
    assert gx_duckdb_compat.apply_for(pg_good_build.sqlalchemy_url()) is False
    result = _gate(pg_good_build, config_dir, tmp_path, dbt_target, "r1")
    assert result.outcome == "passed", result.summary()
    with connect(pg_good_build, read_only=True) as con:
        rows = con.execute("SELECT expectation, success, severity, home, relation FROM ops.dq_results "
                           "WHERE run_id = 'r1'").fetchall()
        table_comment, column_comments = con.comments("ops", "dq_results")
    by_name = {r[0]: r[1:] for r in rows}
    assert len(rows) == len(result.results) == len(ALL_CHECKS) + 1 + 3
    assert by_name["raw.freshness"] == (True, "block", "gx", "raw.load_manifest")
    assert by_name["dbt.unique_dim_account_account_id"] == (True, "block", "dbt", "marts.dim_account")
    assert table_comment and set(column_comments) == set(DQ_RESULTS_COLUMNS)
    _gate(pg_good_build, config_dir, tmp_path, dbt_target, "r1")  # a re-run replaces the run's rows
    with connect(pg_good_build, read_only=True) as con:
        assert con.scalar("SELECT count(*) FROM ops.dq_results WHERE run_id = 'r1'") == len(rows)


@pytest.mark.parametrize("scenario", sorted(BAD_DATA))
def test_each_gx_check_fails_by_name_on_postgres(scenario: str, pg_good_build: Warehouse, config_dir: Path,
                                                 tmp_path: Path, dbt_target: Path) -> None:
    """The defect that breaks a check on DuckDB breaks it on PostgreSQL, with the same failure line."""
    check, sql, expected = BAD_DATA[scenario]
    _run(pg_good_build, sql)
    result = _gate(pg_good_build, config_dir, tmp_path, dbt_target, "bad")
    failed = {r.name for r in result.results if not r.success}
    assert failed == {check} or (check == "raw.rejected_files" and failed == {"raw.rejected_files", "raw.freshness"})
    assert result.outcome == "blocked"
    assert any(line.startswith(check) and expected in line for line in result.failed_blocking), result.failed_blocking
    with connect(pg_good_build, read_only=True) as con:
        row = con.execute("SELECT success, home FROM ops.dq_results WHERE run_id = 'bad' AND expectation = ?",
                          [check]).fetchone()
    assert row == (False, "gx")


def test_volume_warns_and_missing_or_broken_relations_fail_on_postgres(
        pg_good_build: Warehouse, config_dir: Path, tmp_path: Path, dbt_target: Path) -> None:
    """A volume drop warns (same text as on DuckDB); a relation dbt did not build fails the checks that read
    it without running GX; a column gone fails its check as a query error, and the other checks still run."""
    _run(pg_good_build, "UPDATE raw.load_manifest SET rows_read = 2, rows_loaded = 2 WHERE entity = 'accounts' "
                        "AND extract_day = DATE '2025-03-10'")
    warned = _gate(pg_good_build, config_dir, tmp_path, dbt_target, "v")
    assert warned.outcome == "warned"
    assert warned.failed_warning[0].startswith("raw.volume crm.accounts 2 rows vs trailing average 100.0")
    _run(pg_good_build, "DROP TABLE staging.stg_crm__contacts")
    missing = _gate(pg_good_build, config_dir, tmp_path, dbt_target, "m")
    assert ("reconcile.raw_keys_in_staging relation staging.stg_crm__contacts does not exist"
            in missing.failed_blocking)
    _run(pg_good_build, "ALTER TABLE raw.load_manifest RENAME COLUMN rows_quarantined TO rows_q")
    broken = _gate(pg_good_build, config_dir, tmp_path, dbt_target, "e")
    by_name = {r.name: r for r in broken.results}
    assert by_name["raw.quarantine_share"].observed_value == "error"
    assert "rows_quarantined" in by_name["raw.quarantine_share"].violations[0]
    assert by_name["raw.freshness"].success


def test_narrow_reconciliation_on_postgres(pg_good_build: Warehouse, config_dir: Path, tmp_path: Path,
                                           dbt_target: Path) -> None:
    """A narrow night's raw-to-staging reconciliation (tests/expectations/test_narrow_reconcile.py) runs on
    PostgreSQL: a key loaded after the watermark and lost in staging blocks with the same line as on DuckDB."""
    _run(pg_good_build, NARROW_LOADS)
    sql, expected = NARROW_NEW_KEY_LOST
    _run(pg_good_build, sql)
    result = run_gate(pg_good_build, run_id="narrow", config_dir=config_dir, data_docs_dir=tmp_path / "docs",
                      dbt_target_dir=dbt_target, checks=ALL_CHECKS, narrow_since=datetime(2025, 3, 10))
    assert result.outcome == "blocked"
    assert any(line.startswith("reconcile.raw_keys_in_staging") and expected in line
               for line in result.failed_blocking), result.failed_blocking
