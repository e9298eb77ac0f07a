"""A night with nothing new to load publishes nothing and finishes quickly, saying so (issue 17).

Protects the rule of kam_warehouse.night_inputs as `kam run` operates it: after a published night, a
second `kam run` over the same landing zone runs no dbt, no gate, no tiers and no publish, leaves
serving.duckdb byte for byte (same checksum, inode and mtime) and prints why; a new extract day makes
the next `kam run` build and publish again, its tests narrowed to what it loaded (kam_warehouse.test_scope).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kam_warehouse.settings import REPO_ROOT

pytestmark = pytest.mark.e2e

KAM = [sys.executable, "-m", "kam_warehouse"]


def _kam(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KAM, *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=900)


def _state(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_ino, st.st_mtime_ns


def _steps(build_db: Path) -> dict[str, str]:
    with duckdb.connect(str(build_db), read_only=True) as con:
        rows = con.execute("""
            SELECT step, status FROM ops.pipeline_runs
            WHERE run_id = (SELECT run_id FROM ops.pipeline_runs ORDER BY started_at DESC LIMIT 1)""").fetchall()
    return dict(rows)


def test_second_run_without_new_data_skips_and_a_new_day_publishes(tmp_path: Path) -> None:
    """Second `kam run` with no new data: exit 0, the message naming the served build, no dbt build
    (its run_results.json untouched), steps after load recorded `skipped`, serving.duckdb unchanged.
    Then one more extract day lands: the next run builds and publishes a new serving file."""
    book, landing, wh, config = (tmp_path / n for n in ("book", "landing", "warehouse", "config"))
    shutil.copytree(REPO_ROOT / "config", config)  # the rule watches config files: keep them private
    env = {"KAM_CONFIG_DIR": str(config)}
    gen = _kam("demo-data", "--out", str(book), "--accounts", "40", "--months", "14", "--seed", "17",
               "--days", "2", env=env)
    assert gen.returncode == 0, gen.stderr
    days = sorted(p.name for p in (book / "billing").iterdir() if p.is_dir())
    for source in ("billing", "crm"):
        for day in days[:-1]:
            shutil.copytree(book / source / day, landing / source / day)

    first = _kam("run", "--landing", str(landing), "--warehouse", str(wh), env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "tests over every row (no build has passed the quality gate" in first.stdout, first.stdout
    assert _unit_tests_run(wh) > 0
    serving = wh / "serving.duckdb"
    served = _state(serving)
    results = next(wh.rglob("last_build/run_results.json"))
    results_mtime = results.stat().st_mtime_ns
    with duckdb.connect(str(serving), read_only=True) as con:
        (run_id,) = con.execute("SELECT run_id FROM marts._publish_info").fetchone()

    second = _kam("run", "--landing", str(landing), "--warehouse", str(wh), env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "nothing new since build" in second.stdout and "serving unchanged" in second.stdout, second.stdout
    assert run_id.split("__")[-1] in second.stdout, second.stdout
    assert _state(serving) == served
    assert results.stat().st_mtime_ns == results_mtime, "dbt ran on a night with nothing new"
    assert _steps(wh / "build.duckdb") == {"load": "success", "dbt_build": "skipped", "quality_gate": "skipped",
                                           "tiers": "skipped", "publish": "skipped"}

    for source in ("billing", "crm"):
        shutil.copytree(book / source / days[-1], landing / source / days[-1])
    third = _kam("run", "--landing", str(landing), "--warehouse", str(wh), env=env)
    assert third.returncode == 0, third.stdout + third.stderr
    assert "nothing new since build" not in third.stdout
    assert _state(serving)[0] != served[0]
    assert results.stat().st_mtime_ns != results_mtime
    assert set(_steps(wh / "build.duckdb").values()) == {"success"}
    # the new day's night is narrow (kam_warehouse.test_scope): tests over what it loaded, no unit tests
    assert "tests narrowed to what changed after" in third.stdout, third.stdout
    assert _unit_tests_run(wh) == 0


def _unit_tests_run(wh: Path) -> int:
    nodes = json.loads(next(wh.rglob("last_build/run_results.json")).read_text())["results"]
    return sum(n["unique_id"].startswith("unit_test.") for n in nodes)
