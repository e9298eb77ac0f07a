"""Write-audit-publish: readers always see one whole build; failures never touch what is served."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from kam_warehouse.serving import publish, rollback
from kam_warehouse.serving.errors import PublishError
from kam_warehouse.settings import Settings

if TYPE_CHECKING:
    from conftest import StampedBuilds

READER = Path(__file__).with_name("reader_loop.py")


def _checksum(db: Path) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT sum(hash(payload)) FROM marts.build_stamp").fetchone()
    assert row is not None
    return str(row[0])


def _wait_for(predicate, what: str, limit_s: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    """Poll until `predicate()` holds (a liveness guard for the reader process, not a speed assertion)."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def _reads(out: Path) -> list[dict]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines() if line.endswith("}")]


def test_publish_copies_tables_and_views_as_tables_with_publish_info(settings: Settings, builds: StampedBuilds) -> None:
    """Every table and view of marts/ops reaches serving.duckdb as a table, with the run's publish info,
    and every mart is exported to parquet/<table>/."""
    builds.write("run-a")
    result = publish(settings, run_id="run-a")
    assert result.serving_path == settings.serving_db
    assert result.build_path == settings.builds_dir / "run-a.duckdb"
    with duckdb.connect(str(settings.serving_db), read_only=True) as con:
        kinds = dict(con.execute(
            "SELECT schema_name || '.' || table_name, 'table' FROM duckdb_tables() "
            "UNION ALL SELECT schema_name || '.' || view_name, 'view' FROM duckdb_views() WHERE NOT internal"
        ).fetchall())
        assert kinds == {
            "marts.build_stamp": "table", "marts.numbers_view": "table", "ops.pipeline_runs": "table",
            "marts._publish_info": "table",
        }
        assert con.execute("SELECT sum(sq) FROM marts.numbers_view").fetchone() == (91,)
        assert con.execute("SELECT run_id, tables FROM marts._publish_info").fetchone() == ("run-a", 3)
    assert result.tables == 3
    with duckdb.connect() as con:
        parquet = con.execute(
            f"SELECT count(*) FROM read_parquet('{settings.parquet_dir}/build_stamp/*.parquet')").fetchone()
    assert parquet == (builds.stamp_rows("run-a"),)
    assert not Path(f"{settings.serving_db}.wal").exists()


def test_concurrent_reader_never_fails_and_never_sees_a_torn_build(settings: Settings, builds: StampedBuilds, tmp_path: Path) -> None:
    """A reader process looping over serving.duckdb while publishes replace it: zero failed reads, and
    every read sees exactly one build's run_id with that build's row count and checksum."""
    runs = [f"run-{i}" for i in range(6)]
    builds.publish(runs[0])
    checksums = {runs[0]: _checksum(settings.serving_db)}
    out, stop = tmp_path / "reads.jsonl", tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, str(READER), str(settings.serving_db), str(out), str(stop)])
    try:
        _wait_for(lambda: len(_reads(out)) > 0, "the reader's first read")
        for run_id in runs[1:]:
            builds.publish(run_id)
            checksums[run_id] = _checksum(settings.builds_dir / f"{run_id}.duckdb")
        _wait_for(lambda: any(r.get("run_ids") == [runs[-1]] for r in _reads(out)), "a read of the last build")
    finally:
        stop.touch()
        reader.wait(timeout=60)
    reads = _reads(out)
    failures = [r for r in reads if not r["ok"]]
    assert failures == []
    for r in reads:
        (run_id,) = r["run_ids"]
        assert r["info_run_id"] == run_id
        assert r["rows"] == builds.stamp_rows(run_id)
        assert r["checksum"] == checksums[run_id]
    assert {r["run_ids"][0] for r in reads} >= {runs[0], runs[-1]}


def test_failed_publish_leaves_serving_and_kept_builds_untouched(settings: Settings, builds: StampedBuilds) -> None:
    """An error mid-copy (a view that fails when materialised) raises PublishError; the served file,
    the parquet link and the kept builds are exactly as before, and no partial file is left."""
    builds.publish("good")
    before = settings.serving_db.read_bytes()
    link_before = settings.parquet_dir.readlink()
    with pytest.raises(PublishError, match=r"marts\.zz_broken"):
        builds.publish("bad", broken_view=True)
    assert settings.serving_db.read_bytes() == before
    assert builds.served_run_id() == "good"
    assert settings.parquet_dir.readlink() == link_before
    assert sorted(p.name for p in settings.builds_dir.iterdir()) == ["good.duckdb", "good.parquet"]


def test_killed_publish_leftovers_are_ignored_and_cleaned(settings: Settings, builds: StampedBuilds) -> None:
    """A publish killed mid-write leaves only a hidden .partial file: serving is unchanged, rollback
    does not offer it, and the next publish removes it."""
    builds.publish("first")
    partial = settings.builds_dir / ".second.duckdb.partial"
    partial.write_bytes(b"half a duckdb file")
    assert builds.served_run_id() == "first"
    builds.publish("third")
    assert not partial.exists()
    assert builds.served_run_id() == "third"


def test_rollback_restores_the_previous_build_and_can_target_one(settings: Settings, builds: StampedBuilds) -> None:
    """rollback() serves the build published before the current one (also its parquet export);
    rollback(to=...) serves a named kept build; an unknown name is an error naming the kept builds."""
    for run_id in ("r1", "r2", "r3"):
        builds.publish(run_id)
    assert rollback(settings).run_id == "r2"
    assert builds.served_run_id() == "r2"
    assert settings.parquet_dir.resolve() == (settings.builds_dir / "r2.parquet").resolve()
    assert rollback(settings).run_id == "r1"
    with pytest.raises(PublishError, match="oldest kept"):
        rollback(settings)
    assert rollback(settings, to="r3").run_id == "r3"
    assert builds.served_run_id() == "r3"
    with pytest.raises(PublishError, match="r1, r2, r3"):
        rollback(settings, to="nope")


def test_only_the_last_n_builds_are_kept(settings: Settings, builds: StampedBuilds) -> None:
    """publish.keep_builds (3 here) bounds the kept builds: older ones and their exports are pruned."""
    for i in range(5):
        builds.publish(f"b{i}")
    names = sorted(p.name for p in settings.builds_dir.iterdir())
    assert names == ["b2.duckdb", "b2.parquet", "b3.duckdb", "b3.parquet", "b4.duckdb", "b4.parquet"]


def test_publish_without_a_build_warehouse_is_an_actionable_error(settings: Settings, builds: StampedBuilds) -> None:
    """Publishing before any build exists says what to run instead of creating an empty serving file."""
    with pytest.raises(PublishError, match="kam run"):
        publish(settings, run_id="x")
    assert not settings.serving_db.exists()
