"""The quality gate on hand-built warehouses: each check passes on good data and fails, by name, on bad."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
import yaml

from expectations.gate import run_gate

BAD_DATA: dict[str, tuple[str, str]] = {
    # check name -> (SQL that breaks it, text expected in the failure line)
    "raw.quarantine_share": (
        "UPDATE raw.load_manifest SET rows_quarantined = 8 WHERE entity = 'invoice_lines' "
        "AND extract_day = DATE '2025-03-10'",
        "raw.quarantine_share billing.invoice_lines 8.0% > 2%",
    ),
    "raw.rejected_files": (
        "INSERT INTO raw.load_manifest VALUES ('billing/2025-03-11/invoices.csv', 'billing', 'invoices', "
        "DATE '2025-03-11', 0, 's', 0, NULL, 0, 0, 0, NULL, 'b', 'rejected', 'missing required column due_date', "
        "TIMESTAMP '2025-03-11 01:00:00')",
        "raw.rejected_files billing/2025-03-11/invoices.csv was rejected: missing required column due_date",
    ),
    "raw.freshness": (
        "DELETE FROM raw.load_manifest WHERE source = 'crm' AND extract_day > DATE '2025-03-05'",
        "raw.freshness crm: latest loaded extract day 2025-03-05",
    ),
    "staging.keys_unique[staging.stg_billing__invoices]": (
        "INSERT INTO staging.stg_billing__invoices VALUES ('invoices-1')",
        "(invoices-1) occurs 2 times",
    ),
    "marts.revenue_reconciles": (
        "UPDATE marts.fct_account_revenue_monthly SET revenue = 100.02 WHERE account_id = 'B1' "
        "AND revenue_month = DATE '2025-02-01'",
        "differs from intermediate.int_account_revenue_monthly.revenue 900.00 by 0.02",
    ),
    "marts.share_bounds[gini]": ("UPDATE marts.mart_revenue_concentration_monthly SET gini = 1.2", "gini: 1 value(s)"),
    "marts.hhi_bounds[hhi]": ("UPDATE marts.mart_revenue_concentration_monthly SET hhi = 10001", "outside [0, 10000]"),
    "marts.tier_score_bounds[score]": ("UPDATE marts.mart_account_tier_scores SET score = 101 "
                                       "WHERE account_id = 'B1'", "score: 1 value(s)"),
    "marts.tier_score_coverage": ("DELETE FROM marts.mart_account_tier_scores WHERE account_id = 'B1'",
                                  "group B1 has revenue in the last 12 months but no tier score"),
    "marts.one_tier_per_account": ("INSERT INTO marts.dim_account VALUES ('A2', 'A1')", "dim_account has 2 rows"),
    "tiers.one_current_tier": (
        "INSERT INTO tiers.account_tier_history VALUES ('A1', 'key', DATE '2025-01-01', NULL, 60, 'x', 'r', FALSE), "
        "('A1', 'strategic', DATE '2025-02-01', NULL, 80, 'x', 'r', FALSE)",
        "account A1 has 2 current tiers",
    ),
    "marts.month_spine_complete": (
        "DELETE FROM marts.fct_account_revenue_monthly WHERE account_id = 'A2' AND revenue_month = DATE '2025-02-01'; "
        "UPDATE intermediate.int_account_revenue_monthly SET revenue = 0 WHERE account_id = 'A2' "
        "AND revenue_month = DATE '2025-02-01'",
        "account A2: 2 months (2 rows) from 2025-01 to 2025-03, expected 3",
    ),
}


def test_good_data_passes_and_records_every_check(good_db: Path, config_dir: Path, tmp_path: Path) -> None:
    """On consistent data every check passes, one ops.dq_results row per check, Data Docs are built."""
    docs = tmp_path / "docs"
    result = run_gate(good_db, run_id="r1", config_dir=config_dir, data_docs_dir=docs)
    assert result.outcome == "passed", result.summary()
    assert result.passed and not result.failed_blocking and not result.failed_warning
    with duckdb.connect(str(good_db), read_only=True) as con:
        rows = con.execute("SELECT expectation, success, severity FROM ops.dq_results WHERE run_id = 'r1'").fetchall()
    assert len(rows) == len(result.results) >= 20
    assert all(success for _, success, _ in rows)
    assert (docs / "index.html").is_file()


@pytest.mark.parametrize("check", sorted(BAD_DATA))
def test_each_check_fails_by_name_on_bad_data(check: str, mutate: Callable[[str], Path], config_dir: Path,
                                              tmp_path: Path) -> None:
    """Breaking the data a check guards fails exactly that check; its failure line names it and the defect."""
    sql, expected = BAD_DATA[check]
    db = mutate(sql)
    result = run_gate(db, run_id="bad", config_dir=config_dir, data_docs_dir=tmp_path / "docs")
    failed = {r.name for r in result.results if not r.success}
    assert failed == {check} or (check == "raw.rejected_files" and failed == {"raw.rejected_files", "raw.freshness"})
    assert result.outcome == "blocked"
    assert any(line.startswith(check) and expected in line for line in result.failed_blocking), result.failed_blocking
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT success, details FROM ops.dq_results WHERE run_id = 'bad' AND expectation = ?",
                          [check]).fetchone()
    assert row is not None and row[0] is False and expected.split(" ", 1)[1][:20] in (row[1] or "")


def test_severity_from_config_decides_warned_or_off(mutate: Callable[[str], Path], config_dir: Path,
                                                     tmp_path: Path) -> None:
    """A failing check set to `warn` warns without blocking; set to `off` it is not run at all."""
    db = mutate(BAD_DATA["raw.quarantine_share"][0])
    cfg = yaml.safe_load((config_dir / "quality.yml").read_text())
    cfg["checks"]["raw.quarantine_share"]["severity"] = "warn"
    (config_dir / "quality.yml").write_text(yaml.safe_dump(cfg))
    warned = run_gate(db, run_id="w", config_dir=config_dir, data_docs_dir=tmp_path / "d")
    assert (warned.outcome, warned.passed) == ("warned", True)
    assert warned.failed_warning and warned.failed_warning[0].startswith("raw.quarantine_share")
    cfg["checks"]["raw.quarantine_share"]["severity"] = "off"
    (config_dir / "quality.yml").write_text(yaml.safe_dump(cfg))
    off = run_gate(db, run_id="o", config_dir=config_dir, data_docs_dir=tmp_path / "d")
    assert off.outcome == "passed" and "raw.quarantine_share" not in {r.name for r in off.results}


def test_volume_drop_warns(mutate: Callable[[str], Path], config_dir: Path, tmp_path: Path) -> None:
    """A latest-day volume far below the trailing average is a warning, not a block."""
    db = mutate("UPDATE raw.load_manifest SET rows_read = 2, rows_loaded = 2 WHERE entity = 'accounts' "
                "AND extract_day = DATE '2025-03-10'")
    result = run_gate(db, run_id="v", config_dir=config_dir, data_docs_dir=tmp_path / "d")
    assert result.outcome == "warned"
    assert result.failed_warning[0].startswith("raw.volume crm.accounts 2 rows vs trailing average 100.0")


def test_missing_mart_fails_its_checks(mutate: Callable[[str], Path], config_dir: Path, tmp_path: Path) -> None:
    """A relation dbt did not build fails the checks that read it, naming the relation."""
    db = mutate("DROP TABLE marts.dim_account")
    result = run_gate(db, run_id="m", config_dir=config_dir, data_docs_dir=tmp_path / "d")
    assert "marts.one_tier_per_account relation marts.dim_account does not exist" in result.failed_blocking


def test_rerun_of_a_run_id_replaces_its_rows(good_db: Path, config_dir: Path, tmp_path: Path) -> None:
    """Running the gate twice for one run_id leaves one row per check in ops.dq_results."""
    first = run_gate(good_db, run_id="same", config_dir=config_dir, data_docs_dir=tmp_path / "d")
    run_gate(good_db, run_id="same", config_dir=config_dir, data_docs_dir=tmp_path / "d")
    with duckdb.connect(str(good_db), read_only=True) as con:
        n = con.execute("SELECT count(*) FROM ops.dq_results WHERE run_id = 'same'").fetchone()
    assert n == (len(first.results),)


def test_revenue_before_the_spine_warns_without_breaking_reconciliation(
    mutate: Callable[[str], Path], config_dir: Path, tmp_path: Path
) -> None:
    """A credit note booked before an account's first positive month is not on the fact table's spine by
    definition (kam-domain: the spine starts at the first month with revenue > 0). Found on the 300-account
    demo book: the reconciliation must compare like with like (not block), and the excluded amount must be
    reported by name, account and month (warn) rather than disappear."""
    db = mutate("INSERT INTO intermediate.int_account_revenue_monthly VALUES ('B1', DATE '2024-12-01', -25.5)")
    result = run_gate(db, run_id="pre", config_dir=config_dir, data_docs_dir=tmp_path / "docs")
    assert result.outcome == "warned", result.summary()
    assert {r.name for r in result.results if not r.success} == {"marts.revenue_outside_spine"}
    assert any("account B1 has -25.50 recognised in 2024-12, before its first month with revenue > 0 2025-01"
               in line for line in result.failed_warning), result.failed_warning
