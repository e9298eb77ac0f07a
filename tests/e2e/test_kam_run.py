"""`kam run` end to end on generated extracts: the whole nightly pipeline without a scheduler.

Protects the foundation promise: from sample extracts to a published serving warehouse whose
concentration figures match the exact definitions, and a re-run that changes nothing.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.e2e

KAM = [sys.executable, "-m", "kam_warehouse"]


def _kam(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KAM, *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          timeout=900)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("kamrun")
    landing, wh = root / "landing", root / "warehouse"
    gen = _kam("demo-data", "--out", str(landing), "--accounts", "80", "--months", "24", "--seed", "7", "--days", "2")
    assert gen.returncode == 0, gen.stderr
    (landing / "billing" / "2099-01-07").mkdir()  # still being written: listed, not read
    run = _kam("run", "--landing", str(landing), "--warehouse", str(wh))
    assert run.returncode == 0, run.stdout + run.stderr
    return landing, wh, run


@pytest.fixture(scope="module")
def warehouse(first_run: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> tuple[Path, Path]:
    landing, wh, run = first_run
    assert "top-20% revenue share" in run.stdout
    return landing, wh


def test_run_output_is_quiet_and_the_full_log_is_in_a_file(
        first_run: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    """`kam run` piped: one line per step plus the summary (fits a screen), no ANSI codes, no GX INFO
    line, no "nanobind: leaked" at exit; dbt's lines are in the log file under the warehouse whose path
    is printed; the day folder without _SUCCESS is named as not read."""
    _, wh, run = first_run
    lines = run.stdout.splitlines()
    assert len(lines) + len(run.stderr.splitlines()) <= 24, run.stdout + run.stderr
    for step in ("load", "dbt_build", "quality_gate", "tiers", "publish"):
        assert sum(line.startswith(f"  ✓ {step}:") for line in lines) == 1, run.stdout
    assert "billing/2099-01-07: no _SUCCESS yet, not read" in run.stdout
    assert "\x1b[" not in run.stdout + run.stderr
    assert "great_expectations" not in run.stderr and "INFO" not in run.stderr, run.stderr
    assert "nanobind: leaked" not in run.stderr, run.stderr[-2000:]
    log_line = next(line for line in lines if line.strip().startswith("log: "))
    log_file = Path(log_line.split("log: ", 1)[1])
    assert log_file.parent == wh / "logs" and log_file.is_file()
    text = log_file.read_text(encoding="utf-8")
    assert "kam.dbt: Running with dbt=" in text and "kam.dbt: Completed successfully" in text
    assert "\x1b[" not in text


def test_verbose_streams_the_logs(tmp_path: Path, warehouse: tuple[Path, Path]) -> None:
    """`kam -v load` streams the steps' progress lines (the file-by-file load report) to stderr."""
    landing, _ = warehouse
    res = _kam("-v", "load", "--landing", str(landing), "--warehouse", str(tmp_path / "wh"))
    assert res.returncode == 0, res.stderr
    assert "invoices.csv:" in res.stderr and "rows read" in res.stderr
    assert "\x1b[" not in res.stderr


@pytest.mark.parametrize("layout", ["missing", "empty", "incomplete"])
def test_run_stops_before_dbt_on_a_useless_landing(tmp_path: Path, layout: str) -> None:
    """A missing or empty landing path, or one with no complete day folder and nothing loaded, stops
    `kam run` up front (no dbt build, no warehouse created) with the reason, incomplete folders named."""
    landing = tmp_path / "landing"
    if layout != "missing":
        landing.mkdir()
    if layout == "incomplete":
        (landing / "billing" / "2026-01-07").mkdir(parents=True)
        (landing / "crm" / "2026-1-7").mkdir(parents=True)
    res = _kam("run", "--landing", str(landing), "--warehouse", str(tmp_path / "wh"))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Traceback" not in res.stderr and "dbt" not in res.stdout
    expected = {"missing": "does not exist", "empty": "holds no extract day folder",
                "incomplete": "billing/2026-01-07: no _SUCCESS yet, not read"}[layout]
    assert expected in res.stderr, res.stderr
    if layout == "incomplete":
        assert "crm/2026-1-7: folder name is not a date YYYY-MM-DD, not read" in res.stderr
    assert not (tmp_path / "wh").exists()


def test_freshness_fails_when_nothing_is_loaded(tmp_path: Path) -> None:
    """raw.freshness fails (it is documented to) on a warehouse whose load manifest is empty."""
    from expectations.gate import run_gate
    from ingest.schema import ensure_raw_schema
    from kam_warehouse.settings import Settings

    db = tmp_path / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        ensure_raw_schema(con)
    gate = run_gate(db, run_id="t", config_dir=Settings.from_env().config_dir, data_docs_dir=tmp_path / "docs")
    freshness = next(r for r in gate.results if r.name == "raw.freshness")
    assert not freshness.success and "nothing has been loaded" in " ".join(freshness.violations)


def _top20(revenues: list[float]) -> float:
    active = sorted((r for r in revenues if r > 0), reverse=True)
    k = math.ceil(0.2 * len(active))
    return sum(active[:k]) / sum(active)


def test_serving_concentration_matches_definition(warehouse: tuple[Path, Path]) -> None:
    """The published top-20% share equals ceil(0.2n) accounts' revenue / total, computed here in Python
    from the published account-month facts (an independent computation of the definition)."""
    _, wh = warehouse
    with duckdb.connect(str(wh / "serving.duckdb"), read_only=True) as con:
        month, share = con.execute(
            "SELECT revenue_month, top_20pct_share FROM marts.mart_revenue_concentration_monthly "
            "WHERE level='account' AND \"window\"='month' ORDER BY revenue_month DESC LIMIT 1"
        ).fetchone()
        revenues = [float(r) for (r,) in con.execute(
            "SELECT revenue FROM marts.fct_account_revenue_monthly WHERE revenue_month = ?", [month]
        ).fetchall()]
    assert share == pytest.approx(_top20(revenues), abs=1e-9)


def test_tier_history_written_and_rerun_is_idempotent(warehouse: tuple[Path, Path]) -> None:
    """A second `kam run` on the same landing loads nothing, makes no tier change and gives the same numbers."""
    landing, wh = warehouse
    serving = wh / "serving.duckdb"

    def snapshot() -> tuple:
        with duckdb.connect(str(serving), read_only=True) as con:
            conc = con.execute(
                "SELECT * FROM marts.mart_revenue_concentration_monthly ORDER BY ALL").fetchall()
            tiers = con.execute(
                "SELECT account_id, tier, valid_from, valid_to, score FROM marts.account_tier_history ORDER BY ALL"
            ).fetchall()
            raw = con.execute("SELECT count(*) FROM ops.load_manifest").fetchone()
        return conc, tiers, raw

    before = snapshot()
    assert before[1], "account_tier_history is empty after the first run"
    again = _kam("run", "--landing", str(landing), "--warehouse", str(wh))
    assert again.returncode == 0, again.stdout + again.stderr
    assert snapshot() == before


def test_failure_exits_nonzero_with_reason(tmp_path: Path) -> None:
    """A failing step exits 1 with a one-paragraph reason on stderr, not a traceback."""
    landing = tmp_path / "landing" / "billing" / "2026-01-01"
    landing.mkdir(parents=True)
    (landing / "invoices.csv").write_text("invoice_id,account_id\nI1,A1\n")  # misses required columns
    (landing / "_SUCCESS").touch()
    res = _kam("run", "--landing", str(tmp_path / "landing"), "--warehouse", str(tmp_path / "wh"))
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    assert "invoices.csv" in res.stderr


def test_published_run_log_shows_every_step_done(warehouse: tuple[Path, Path]) -> None:
    """Engineers charting ops.pipeline_runs in BI see the published run's five steps as `success` —
    including the publish itself, which was still in progress while its own file was written."""
    _, wh = warehouse
    with duckdb.connect(str(wh / "serving.duckdb"), read_only=True) as con:
        (run_id,) = con.execute("SELECT run_id FROM marts._publish_info").fetchone()
        steps = dict(con.execute(
            "SELECT step, status FROM ops.pipeline_runs WHERE run_id = ?", [run_id]).fetchall())
    assert steps == {s: "success" for s in ("load", "dbt_build", "quality_gate", "tiers", "publish")}


def _latest(rows: list[dict[str, str]], key: str) -> dict[str, dict[str, str]]:
    """Latest version per key (later updated_at wins; on a tie the later day folder)."""
    out: dict[str, dict[str, str]] = {}
    for row in rows:
        if row[key] not in out or row["updated_at"] >= out[row[key]]["updated_at"]:
            out[row[key]] = row
    return out


def _read_all(landing: Path, entity: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for day in sorted((landing / "billing").iterdir()):
        path = day / f"{entity}.csv"
        if path.is_file():
            with path.open(encoding="utf-8", newline="") as fh:
                rows += list(csv.DictReader(fh))
    return rows


def test_missing_fx_rate_blocks_then_late_rate_publishes_the_revenue(tmp_path: Path) -> None:
    """A currency without rates is never dropped quietly: the gate blocks naming currency, dates, the
    number of lines and their amount (computed here from the extract files); delivering the rates late
    (a new day folder) reprocesses the held lines and publishes them, each line converted at its rate."""
    landing, wh = tmp_path / "landing", tmp_path / "wh"
    gen = _kam("demo-data", "--out", str(landing), "--accounts", "30", "--months", "13", "--seed", "5", "--days", "1")
    assert gen.returncode == 0, gen.stderr
    removed: list[dict[str, str]] = []
    for path in sorted((landing / "billing").glob("*/fx_rates.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        removed += [r for r in rows if r["currency"] == "USD"]
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["rate_date", "currency", "rate_to_reporting"])
            writer.writeheader()
            writer.writerows(r for r in rows if r["currency"] != "USD")
    assert removed
    invoices = _latest(_read_all(landing, "invoices"), "invoice_id")
    usd = {i for i, r in invoices.items() if r["currency"] == "USD" and r["status"] != "void"}
    held = [r for r in _latest(_read_all(landing, "invoice_lines"), "invoice_line_id").values()
            if r["invoice_id"] in usd]
    assert held, "the generated book has no USD invoice line"
    amount = sum(Decimal(r["amount"]) for r in held)
    dates = sorted(invoices[r["invoice_id"]]["invoice_date"] for r in held)

    blocked = _kam("run", "--landing", str(landing), "--warehouse", str(wh))
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert f"USD: {len(held)} invoice line(s) dated {dates[0]} to {dates[-1]}, {amount:,.2f} USD" in blocked.stderr
    assert "assert_no_revenue_awaiting_fx" in blocked.stderr and "Traceback" not in blocked.stderr
    assert not (wh / "serving.duckdb").exists()

    last_day = max(p.name for p in (landing / "billing").iterdir())
    late = (date.fromisoformat(last_day) + timedelta(days=1)).isoformat()
    for source in ("billing", "crm"):
        (landing / source / late).mkdir()
    with (landing / "billing" / late / "fx_rates.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["rate_date", "currency", "rate_to_reporting"])
        writer.writeheader()
        writer.writerows(removed)
    for source in ("billing", "crm"):
        (landing / source / late / "_SUCCESS").touch()

    released = _kam("run", "--landing", str(landing), "--warehouse", str(wh))
    assert released.returncode == 0, released.stdout + released.stderr
    rates = sorted((r["rate_date"], Decimal(r["rate_to_reporting"])) for r in removed)
    with duckdb.connect(str(wh / "build.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM ops.revenue_awaiting_fx").fetchone() == (0,)
        recognised = dict(con.execute(
            "SELECT invoice_line_id, sum(recognised_revenue) FROM intermediate.int_invoice_line_revenue "
            "GROUP BY ALL").fetchall())
    for line in held:
        on = invoices[line["invoice_id"]]["invoice_date"]
        rate = [r for d, r in rates if d <= on][-1]
        assert recognised[line["invoice_line_id"]] == pytest.approx(Decimal(line["amount"]) * rate, abs=Decimal("1e-5"))
    with duckdb.connect(str(wh / "serving.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.fct_account_revenue_monthly").fetchone()[0] > 0


def test_reconciliation_before_conversion_catches_a_lost_line(tmp_path: Path,
                                                              warehouse: tuple[Path, Path]) -> None:
    """The per-currency reconciliation to source amounts fails when a converted line's revenue is lost
    (here deleted from the line revenue model in a copy of the warehouse), naming its currency."""
    _, wh = warehouse
    copy = tmp_path / "wh"
    copy.mkdir()
    shutil.copy(wh / "build.duckdb", copy / "build.duckdb")
    with duckdb.connect(str(copy / "build.duckdb")) as con:
        con.execute("DELETE FROM intermediate.int_invoice_line_revenue WHERE invoice_line_id = ("
                    "SELECT min(invoice_line_id) FROM intermediate.int_invoice_lines_converted "
                    "WHERE fx_status = 'converted' AND NOT is_void)")
    res = _kam("dbt", "test", "--select", "assert_revenue_reconciles_to_source_per_currency",
               "--warehouse", str(copy))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "assert_revenue_reconciles_to_source_per_currency" in res.stderr and "fail" in res.stderr
