"""`kam run` end to end on generated extracts: the whole nightly pipeline without a scheduler.

Protects the foundation promise: from sample extracts to a published serving warehouse whose
concentration figures match the exact definitions, and a re-run that changes nothing.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.e2e

KAM = [sys.executable, "-m", "kam_warehouse"]


def _kam(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KAM, *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          timeout=900)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("kamrun")
    landing, wh = root / "landing", root / "warehouse"
    gen = _kam("demo-data", "--out", str(landing), "--accounts", "80", "--months", "24", "--seed", "7", "--days", "2")
    assert gen.returncode == 0, gen.stderr
    run = _kam("run", "--landing", str(landing), "--warehouse", str(wh))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "top-20% revenue share" in run.stdout
    return landing, wh


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
