"""kill -9 at every fault point of publish and rollback (a real SIGKILL of a real publishing process):
serving is the old build or the new one, whole; the next start cleans up and repairs; rollback goes
to the build served before, never to one that was only finalised."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kam_warehouse.faults import ENV
from kam_warehouse.serving import builds, history, publish, rollback
from kam_warehouse.serving.parquet_export import read_pointer
from kam_warehouse.serving.publish import ALL_POINTS
from kam_warehouse.settings import Settings
from tests.serving.stamped import StampedBuilds, stamp_rows

PROC = Path(__file__).with_name("publish_proc.py")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse that served p1 then p2 (copied for each case)."""
    root = tmp_path_factory.mktemp("publish-template")
    settings = _settings(root)
    settings.config_dir.mkdir()
    (settings.config_dir / "pipeline.yml").write_text("publish:\n  keep_builds: 3\n")
    for run_id in ("p1", "p2"):
        StampedBuilds(settings).publish(run_id)
    return root


def _settings(root: Path) -> Settings:
    return Settings(landing_dir=root / "landing", warehouse_dir=root / "warehouse", config_dir=root / "config")


def _killed(settings: Settings, point: str, *args: str) -> None:
    proc = subprocess.run([sys.executable, str(PROC), str(settings.warehouse_dir), str(settings.config_dir), *args],
                          env={**os.environ, ENV: point}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, f"not killed at {point}: rc {proc.returncode}\n{proc.stderr}"


def _served(settings: Settings) -> str:
    """The run serving.duckdb holds, checked whole: every stamped row of that one run, its row count."""
    with duckdb.connect(str(settings.serving_db), read_only=True) as con:
        (info,) = con.execute("SELECT run_id FROM marts._publish_info").fetchone() or (None,)
        runs = con.execute("SELECT list(DISTINCT run_id), count(*) FROM marts.build_stamp").fetchone()
    assert runs is not None and runs[0] == [info] and runs[1] == stamp_rows(info)
    return info


def _consistent(settings: Settings) -> None:
    """No temporaries anywhere, CURRENT and the history agree with serving, every kept build was served."""
    served = _served(settings)
    temps = [p for d in (settings.warehouse_dir, settings.builds_dir, settings.parquet_dir)
             for p in d.glob(".*") if p.name.endswith((".incoming", ".partial"))]
    assert temps == []
    assert read_pointer(settings.parquet_dir) == served
    assert history.last_served(settings.builds_dir).build == served
    assert {b.name for b in builds.kept_builds(settings.builds_dir)} <= history.served_names(settings.builds_dir)


@pytest.mark.parametrize("point", ALL_POINTS)
def test_publish_killed_at_each_point(template: Path, tmp_path: Path, point: str) -> None:
    """A publish of p3 killed at `point`: serving is p2 or p3, never a mix; rollback (the next start)
    then serves the build served before the one it finds, cleans every leftover and repairs CURRENT;
    a later publish works."""
    shutil.copytree(template, tmp_path / "wh")
    settings = _settings(tmp_path / "wh")
    before = settings.serving_db.read_bytes()
    _killed(settings, point, "publish", "p3")
    served = _served(settings)
    assert served in ("p2", "p3")
    if served == "p2":
        assert settings.serving_db.read_bytes() == before
    swapped_at = ALL_POINTS.index("serve:serving_swapped")
    assert (served == "p3") == (ALL_POINTS.index(point) >= swapped_at)
    assert rollback(settings).run_id == {"p2": "p1", "p3": "p2"}[served]
    _consistent(settings)
    assert not (settings.builds_dir / "p3.duckdb").exists() or served == "p3"
    StampedBuilds(settings).publish("p4")
    _consistent(settings)
    assert _served(settings) == "p4"


@pytest.mark.parametrize("point", ["copy:incoming_written", "serve:serving_swapped", "serve:pointer_switched"])
def test_rollback_killed_mid_swap(template: Path, tmp_path: Path, point: str) -> None:
    """A rollback (p2 -> p1) killed inside the swap: serving is p2 or p1, whole; the next publish
    records what was served, repairs CURRENT, and leaves both builds as rollback targets."""
    shutil.copytree(template, tmp_path / "wh")
    settings = _settings(tmp_path / "wh")
    _killed(settings, point, "rollback")
    served = _served(settings)
    assert served == ("p2" if point == "copy:incoming_written" else "p1")
    StampedBuilds(settings).publish("p3")
    _consistent(settings)
    assert rollback(settings).run_id == "p2"
    assert rollback(settings).run_id == "p1"


def test_publish_after_a_kill_cleans_up_at_its_start(template: Path, tmp_path: Path) -> None:
    """The issue's case: a run killed after finalising builds/<run>.duckdb but before the swap, then a
    rerun. The rerun deletes the never-served build, and rollback from the rerun's build goes to the
    build served before (p2), not to the killed run's."""
    shutil.copytree(template, tmp_path / "wh")
    settings = _settings(tmp_path / "wh")
    _killed(settings, "publish:build_final", "publish", "killed")
    assert (settings.builds_dir / "killed.duckdb").exists()
    assert (settings.parquet_dir / "killed").exists() is False
    StampedBuilds(settings).write("rerun")
    publish(settings, run_id="rerun")
    assert not (settings.builds_dir / "killed.duckdb").exists()
    assert rollback(settings).run_id == "p2"
    _consistent(settings)
