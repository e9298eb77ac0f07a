"""kill -9 at every fault point of publish and rollback on PostgreSQL (a real SIGKILL of a real
publishing process): marts/ops are the old build or the new one, whole (the swap is one transaction);
the next start drops what the killed publish staged and re-points parquet/CURRENT; rollback goes to
the build served before, never to one that was only staged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kam_warehouse.core.warehouse import connect
from kam_warehouse.core.warehouse.publisher import schema_publisher
from kam_warehouse.faults import ENV
from kam_warehouse.serving import publish, rollback
from kam_warehouse.serving.parquet_export import read_pointer
from kam_warehouse.serving.recovery import recover
from kam_warehouse.serving.schema_publish import SCHEMA_POINTS
from kam_warehouse.settings import Settings
from tests.serving.stamped import PostgresStampedBuilds, stamp_rows

PROC = Path(__file__).with_name("publish_proc.py")


@pytest.fixture
def pg(tmp_path: Path, pg_warehouse_url) -> Settings:  # type: ignore[no-untyped-def]
    """A PostgreSQL warehouse that served p1 then p2."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "pipeline.yml").write_text("publish:\n  keep_builds: 3\n")
    settings = Settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "warehouse", config_dir=config,
                        warehouse_url=pg_warehouse_url())
    for run_id in ("p1", "p2"):
        PostgresStampedBuilds(settings).publish(run_id)
    return settings


def _killed(settings: Settings, point: str, *args: str) -> None:
    env = {**os.environ, ENV: point, "KAM_WAREHOUSE_URL": settings.warehouse_url}
    proc = subprocess.run([sys.executable, str(PROC), str(settings.warehouse_dir), str(settings.config_dir), *args],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, f"not killed at {point}: rc {proc.returncode}\n{proc.stderr}"


def _served(settings: Settings) -> str:
    """The run marts/ops hold, checked whole: the same run in every table, that run's row counts."""
    with connect(settings.serving, read_only=True) as con:
        (info,) = con.execute("SELECT run_id FROM marts._publish_info").fetchone() or (None,)
        runs = con.execute("SELECT array_agg(DISTINCT run_id), count(*) FROM marts.build_stamp").fetchone()
        ops = con.execute("SELECT array_agg(DISTINCT run_id) FROM ops.pipeline_runs").fetchone()
    assert runs is not None and runs[0] == [info] and runs[1] == stamp_rows(info) and ops == ([info],)
    return info


def _consistent(settings: Settings) -> None:
    """Nothing staged is left, every kept schema is a served build's, CURRENT names the served build,
    no temporary file is left."""
    served = _served(settings)
    publisher = schema_publisher(settings.build, settings.serving)
    assert publisher is not None
    kept = publisher.kept()
    assert {b.state for b in kept} == {"served"}
    assert publisher.history()[-1].build == served
    with connect(settings.serving, read_only=True) as con:
        schemas = {r[0] for r in con.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'marts%' "
                                             "OR nspname LIKE 'ops%'").fetchall()}
        rows = con.execute("SELECT state, count(*) FROM kam_publish.builds GROUP BY state").fetchall()
    assert rows == [("served", len(kept))]
    assert schemas == {"marts", "ops"} | {f"{s}__{b.tag}" for b in kept if b.build != served for s in ("marts", "ops")}
    temps = [p for d in (settings.warehouse_dir, settings.builds_dir, settings.parquet_dir)
             for p in d.glob(".*") if p.name.endswith((".incoming", ".partial"))]
    assert temps == []
    assert read_pointer(settings.parquet_dir) == served


@pytest.mark.parametrize("point", SCHEMA_POINTS)
def test_publish_killed_at_each_point(pg: Settings, point: str) -> None:
    """A publish of p3 killed at `point`: marts/ops hold p2 or p3, whole; the next start (recover)
    cleans the staged build and repairs CURRENT; rollback then serves the build served before the one
    it finds; a later publish works."""
    _killed(pg, point, "publish", "p3")
    served = _served(pg)
    assert (served == "p3") == (SCHEMA_POINTS.index(point) >= SCHEMA_POINTS.index("serve:serving_swapped"))
    recover(pg)
    _consistent(pg)
    assert rollback(pg).run_id == {"p2": "p1", "p3": "p2"}[served]
    _consistent(pg)
    PostgresStampedBuilds(pg).publish("p4")
    _consistent(pg)
    assert _served(pg) == "p4"


@pytest.mark.parametrize("point", ["serve:serving_swapped", "serve:pointer_switched"])
def test_rollback_killed_mid_swap(pg: Settings, point: str) -> None:
    """A rollback (p2 -> p1) killed after the swap transaction: p1 is served and recorded; the next
    publish repairs CURRENT and both builds stay rollback targets."""
    _killed(pg, point, "rollback")
    assert _served(pg) == "p1"
    PostgresStampedBuilds(pg).publish("p3")
    _consistent(pg)
    assert rollback(pg).run_id == "p2"  # published before p3
    assert rollback(pg).run_id == "p1"


def test_publish_after_a_kill_cleans_up_at_its_start(pg: Settings) -> None:
    """A run killed after staging and auditing its build but before the swap, then a rerun: the rerun
    drops the never-served build, and rollback from the rerun's build goes to p2, not the killed run's."""
    _killed(pg, "publish:build_final", "publish", "killed")
    with connect(pg.serving, read_only=True) as con:
        assert con.execute("SELECT state FROM kam_publish.builds WHERE build = 'killed'").fetchall() == [("ready",)]
    PostgresStampedBuilds(pg).write("rerun")
    publish(pg, run_id="rerun")
    assert rollback(pg).run_id == "p2"
    _consistent(pg)
    with pytest.raises(Exception, match="p1, p2, rerun"):
        rollback(pg, to="killed")
