"""The quality gate on hand-built warehouses and dbt artifacts: one verdict from the GX checks (each passes
on good data and fails, by name, on bad) and the dbt build's tests, recorded with each check's home."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from expectations.checks import ALL_CHECKS
from expectations.gate import run_gate
from expectations.results import DQ_RESULTS_COLUMNS, GateResult
from kam_warehouse.core.errors import ConfigError

# the suite runs with --import-mode=importlib: make this folder's helper module importable
sys.path.insert(0, str(Path(__file__).parent))

from gate_defects import BAD_DATA


def _gate(db: Path, config_dir: Path, tmp_path: Path, dbt_target: Path | None, run_id: str = "r", *,
          gx: bool = True) -> GateResult:
    """The gate; with gx=False only its dbt half (no GX check is run: the dbt tests stay fast)."""
    return run_gate(db, run_id=run_id, config_dir=config_dir, data_docs_dir=tmp_path / "docs",
                    dbt_target_dir=dbt_target, checks=ALL_CHECKS if gx else ())


def _set(config_dir: Path, key: str, severity: str) -> None:
    cfg = yaml.safe_load((config_dir / "quality.yml").read_text())
    cfg["checks"][key]["severity"] = severity
    (config_dir / "quality.yml").write_text(yaml.safe_dump(cfg))


def test_good_data_passes_and_records_every_check_with_its_home(good_db: Path, config_dir: Path, tmp_path: Path,
                                                                dbt_target: Path) -> None:
    """On consistent data with a green dbt build every check passes: one ops.dq_results row per GX check,
    per dbt test and for dbt.results, each with its home and relation."""
    result = _gate(good_db, config_dir, tmp_path, dbt_target, "r1")
    assert result.outcome == "passed", result.summary()
    assert result.passed and not result.failed_blocking and not result.failed_warning
    with duckdb.connect(str(good_db), read_only=True) as con:
        rows = con.execute("SELECT expectation, success, severity, home, relation FROM ops.dq_results "
                           "WHERE run_id = 'r1'").fetchall()
    by_name = {r[0]: r[1:] for r in rows}
    assert len(rows) == len(result.results) == len(ALL_CHECKS) + 1 + 3
    assert all(success for success, *_ in by_name.values())
    assert by_name["raw.freshness"] == (True, "block", "gx", "raw.load_manifest")
    assert by_name["dbt.results"][2] == "dbt"
    assert by_name["dbt.unique_dim_account_account_id"] == (True, "block", "dbt", "marts.dim_account")
    assert by_name["dbt.movement_classification_including_reactivation"][3] == "marts.fct_account_revenue_monthly"


def test_data_docs_are_built_when_a_gx_check_fails_or_always(mutate: Callable[[str], Path], config_dir: Path,
                                                             tmp_path: Path, dbt_target: Path) -> None:
    """With the shipped `data_docs: on_failure` a clean night skips the Data Docs (half of GX's time) and a
    failing GX check builds them; `always` builds them on every run."""
    docs = tmp_path / "docs" / "index.html"
    _gate(mutate("SELECT 1"), config_dir, tmp_path, dbt_target, "clean")
    assert docs.parent.is_dir() and not docs.exists()
    _gate(mutate(BAD_DATA["freshness"][1]), config_dir, tmp_path, dbt_target, "failed")
    assert docs.is_file() and "raw.freshness" in docs.read_text(encoding="utf-8") + "".join(
        p.read_text(encoding="utf-8") for p in docs.parent.rglob("*.html"))
    docs.unlink()
    cfg = yaml.safe_load((config_dir / "quality.yml").read_text())
    cfg["data_docs"] = "always"
    (config_dir / "quality.yml").write_text(yaml.safe_dump(cfg))
    _gate(mutate("UPDATE raw.load_manifest SET source = source"), config_dir, tmp_path, dbt_target, "x")
    assert docs.is_file()


@pytest.mark.parametrize("scenario", sorted(BAD_DATA))
def test_each_gx_check_fails_by_name_on_bad_data(scenario: str, mutate: Callable[[str], Path], config_dir: Path,
                                                 tmp_path: Path, dbt_target: Path) -> None:
    """Breaking the data a GX check guards fails exactly that check; its failure line names it and the defect."""
    check, sql, expected = BAD_DATA[scenario]
    db = mutate(sql)
    result = _gate(db, config_dir, tmp_path, dbt_target, "bad")
    failed = {r.name for r in result.results if not r.success}
    assert failed == {check} or (check == "raw.rejected_files" and failed == {"raw.rejected_files", "raw.freshness"})
    assert result.outcome == "blocked"
    assert any(line.startswith(check) and expected in line for line in result.failed_blocking), result.failed_blocking
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT success, details, home FROM ops.dq_results WHERE run_id = 'bad' AND expectation = ?",
                          [check]).fetchone()
    assert row is not None and row[0] is False and expected.split(" ", 1)[1][:20] in (row[1] or "")
    assert row[2] == "gx"


def test_severity_from_config_decides_warned_or_off(mutate: Callable[[str], Path], config_dir: Path,
                                                     tmp_path: Path, dbt_target: Path) -> None:
    """A failing check set to `warn` warns without blocking; set to `off` it is not run at all."""
    db = mutate(BAD_DATA["quarantine_share"][1])
    _set(config_dir, "raw.quarantine_share", "warn")
    warned = _gate(db, config_dir, tmp_path, dbt_target, "w")
    assert (warned.outcome, warned.passed) == ("warned", True)
    assert warned.failed_warning and warned.failed_warning[0].startswith("raw.quarantine_share")
    _set(config_dir, "raw.quarantine_share", "off")
    off = _gate(db, config_dir, tmp_path, dbt_target, "o")
    assert off.outcome == "passed" and "raw.quarantine_share" not in {r.name for r in off.results}


def test_volume_drop_warns(mutate: Callable[[str], Path], config_dir: Path, tmp_path: Path, dbt_target: Path) -> None:
    """A latest-day volume far below the trailing average is a warning, not a block."""
    db = mutate("UPDATE raw.load_manifest SET rows_read = 2, rows_loaded = 2 WHERE entity = 'accounts' "
                "AND extract_day = DATE '2025-03-10'")
    result = _gate(db, config_dir, tmp_path, dbt_target, "v")
    assert result.outcome == "warned"
    assert result.failed_warning[0].startswith("raw.volume crm.accounts 2 rows vs trailing average 100.0")


def test_missing_relation_fails_its_checks(mutate: Callable[[str], Path], config_dir: Path, tmp_path: Path,
                                           dbt_target: Path) -> None:
    """A relation dbt did not build fails the checks that read it, naming the relation."""
    db = mutate("DROP TABLE staging.stg_crm__contacts")
    result = _gate(db, config_dir, tmp_path, dbt_target, "m")
    assert "reconcile.raw_keys_in_staging relation staging.stg_crm__contacts does not exist" in result.failed_blocking


def test_rerun_of_a_run_id_replaces_its_rows(good_db: Path, config_dir: Path, tmp_path: Path,
                                             dbt_target: Path) -> None:
    """Running the gate twice for one run_id leaves one row per check in ops.dq_results."""
    first = _gate(good_db, config_dir, tmp_path, dbt_target, "same")
    _gate(good_db, config_dir, tmp_path, dbt_target, "same")
    with duckdb.connect(str(good_db), read_only=True) as con:
        n = con.execute("SELECT count(*) FROM ops.dq_results WHERE run_id = 'same'").fetchone()
    assert n == (len(first.results),)


# ---------------------------------------------------------------- the dbt half of the verdict
def test_failed_dbt_test_blocks_naming_the_test_and_model(good_db: Path, config_dir: Path, tmp_path: Path,
                                                          make_dbt_target: Callable[..., Path]) -> None:
    """A dbt test that failed (dbt severity error) blocks the gate whatever config/quality.yml says about
    warnings: the failure line names the test, the model and the failing rows; dq_results says home dbt."""
    target = make_dbt_target([("relationships_stg_billing__payments_account_id", "fail", 3, "stg_billing__payments"),
                              ("unique_dim_account_account_id", "pass", 0, "dim_account")])
    _set(config_dir, "dbt.warnings", "off")
    result = _gate(good_db, config_dir, tmp_path, target, "f", gx=False)
    assert result.outcome == "blocked"
    assert result.failed_blocking == ["dbt.relationships_stg_billing__payments_account_id dbt test on "
                                      "staging.stg_billing__payments returned fail: 3 failing row(s)"]
    with duckdb.connect(str(good_db), read_only=True) as con:
        row = con.execute("SELECT success, severity, home, observed_value FROM ops.dq_results WHERE run_id = 'f' "
                          "AND expectation = 'dbt.relationships_stg_billing__payments_account_id'").fetchone()
    assert row == (False, "block", "dbt", "fail (3)")


def test_dbt_warning_follows_the_configured_severity(good_db: Path, config_dir: Path, tmp_path: Path,
                                                     make_dbt_target: Callable[..., Path]) -> None:
    """A dbt test that returned `warn` is a warning by default, blocks when dbt.warnings is block, and is not
    recorded when it is off; tests dbt skipped (their model did not build) block as one row listing them."""
    target = make_dbt_target([("not_null_int_invoice_lines_converted_fx_rate", "warn", 2, "int_invoice_lines_converted")])
    warned = _gate(good_db, config_dir, tmp_path, target, "w1", gx=False)
    assert warned.outcome == "warned"
    assert warned.failed_warning == ["dbt.not_null_int_invoice_lines_converted_fx_rate dbt test on "
                                     "marts.int_invoice_lines_converted returned warn: 2 failing row(s)"]
    _set(config_dir, "dbt.warnings", "block")
    assert _gate(good_db, config_dir, tmp_path, target, "w2", gx=False).outcome == "blocked"
    _set(config_dir, "dbt.warnings", "off")
    off = _gate(good_db, config_dir, tmp_path, target, "w3", gx=False)
    assert off.outcome == "passed" and not [r for r in off.results if r.name.startswith("dbt.not_null")]
    skipped = make_dbt_target([("unique_dim_account_account_id", "skipped", 0, "dim_account"),
                               ("not_null_dim_account_group_id", "skipped", 0, "dim_account")])
    result = _gate(good_db, config_dir, tmp_path, skipped, "s", gx=False)
    assert result.failed_blocking == ["dbt.skipped unique_dim_account_account_id on marts.dim_account",
                                      "dbt.skipped not_null_dim_account_group_id on marts.dim_account"]


@pytest.mark.parametrize(("case", "expected"), [
    ("missing", "run_results.json does not exist: no dbt build has run against this warehouse"),
    ("stale", "before the latest load at 2025-03-10 01:00:00 UTC"),
    ("not_a_build", "the last dbt invocation was `dbt docs`, not a build"),
    ("no_tests", "the last dbt build ran no tests"),
    ("not_given", "the gate was not given the dbt target folder"),
])
def test_dbt_results_must_be_this_builds(case: str, expected: str, good_db: Path, config_dir: Path, tmp_path: Path,
                                         make_dbt_target: Callable[..., Path]) -> None:
    """The gate never judges someone else's dbt results: none at all, a build that finished before the latest
    load, a `dbt docs generate` that overwrote the build's results, or a build without tests block it."""
    target: Path | None = tmp_path / "dbt_target"
    if case == "stale":
        make_dbt_target(generated_at=datetime(2025, 3, 10, 0, 30))
    elif case == "not_a_build":
        make_dbt_target([], which="docs")
    elif case == "no_tests":
        make_dbt_target([])
    elif case == "not_given":
        target = None
    result = _gate(good_db, config_dir, tmp_path, target, "d", gx=False)
    assert result.outcome == "blocked"
    (line,) = result.failed_blocking
    assert line.startswith("dbt.results ") and expected in line, line


def test_dq_results_describes_itself_and_upgrades_an_old_table(tmp_path: Path, good_db: Path, config_dir: Path,
                                                                dbt_target: Path) -> None:
    """ops.dq_results created before `home`/`relation` existed gets them (old rows kept); the table and each
    column carry a comment, so BI tools show what they mean."""
    with duckdb.connect(str(good_db)) as con:
        con.execute("CREATE SCHEMA ops")
        con.execute("CREATE TABLE ops.dq_results (run_id VARCHAR NOT NULL, suite VARCHAR NOT NULL, expectation "
                    "VARCHAR NOT NULL, severity VARCHAR NOT NULL, success BOOLEAN NOT NULL, observed_value VARCHAR, "
                    "details VARCHAR, checked_at TIMESTAMP NOT NULL)")
        con.execute("INSERT INTO ops.dq_results VALUES ('old', 'raw', 'raw.freshness', 'block', TRUE, '0', NULL, "
                    "TIMESTAMP '2025-01-01 00:00:00')")
    _gate(good_db, config_dir, tmp_path, dbt_target, "new", gx=False)
    with duckdb.connect(str(good_db), read_only=True) as con:
        runs = con.execute("SELECT run_id, count(*), count(home) FROM ops.dq_results GROUP BY ALL ORDER BY 1").fetchall()
        table_comment = con.execute("SELECT comment FROM duckdb_tables() WHERE schema_name = 'ops' "
                                    "AND table_name = 'dq_results'").fetchone()
        columns = dict(con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = 'ops' "
                                   "AND table_name = 'dq_results'").fetchall())
    assert runs[0] == ("new", 4, 4) and runs[1] == ("old", 1, 0)
    assert table_comment and "one row per run and check" in table_comment[0]
    assert set(columns) == set(DQ_RESULTS_COLUMNS) and all(columns.values())


def test_a_misconfigured_check_names_the_file_key_and_allowed_values(good_db: Path, config_dir: Path,
                                                                      tmp_path: Path, dbt_target: Path) -> None:
    """A severity outside block/warn/off, or a check the gate does not know, is a ConfigError naming the
    file, the key and what is allowed; nothing is evaluated."""
    _set(config_dir, "raw.volume", "loud")
    with pytest.raises(ConfigError) as bad:
        _gate(good_db, config_dir, tmp_path, dbt_target)
    assert str(config_dir / "quality.yml") in str(bad.value)
    assert "checks.raw.volume.severity" in str(bad.value) and "'block', 'warn' or 'off'" in str(bad.value)
    cfg = yaml.safe_load((config_dir / "quality.yml").read_text())
    cfg["checks"]["raw.volume"]["severity"] = "warn"
    cfg["checks"]["marts.share_bounds"] = {"severity": "block"}
    (config_dir / "quality.yml").write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match=r"unknown check\(s\) marts.share_bounds; known: dbt.results"):
        _gate(good_db, config_dir, tmp_path, dbt_target)
