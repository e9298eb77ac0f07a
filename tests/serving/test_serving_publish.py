"""Write-audit-publish: readers always see one whole build; failures never touch what is served;
rollback only serves builds that were served; the Parquet export is versioned per build."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from kam_warehouse.serving import builds as kept_builds
from kam_warehouse.serving import history, publish, rollback
from kam_warehouse.serving.errors import PublishError
from kam_warehouse.serving.parquet_export import read_pointer
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


def _start_reader(mode: str, target: Path, tmp_path: Path, tag: str) -> tuple[subprocess.Popen, Path, Path]:
    out, stop = tmp_path / f"reads-{tag}.jsonl", tmp_path / f"stop-{tag}"
    proc = subprocess.Popen([sys.executable, str(READER), mode, str(target), str(out), str(stop)])
    _wait_for(lambda: len(_reads(out)) > 0, f"the {mode} reader's first read")
    return proc, out, stop


def test_publish_copies_tables_and_views_as_tables_with_publish_info(settings: Settings, builds: StampedBuilds) -> None:
    """Every table and view of marts/ops reaches serving.duckdb as a table, with the run's publish info;
    every mart is exported to parquet/<build>/<table>/ and parquet/CURRENT names that build."""
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
            "marts.build_stamp": "table", "marts.build_stamp_b": "table", "marts.numbers_view": "table",
            "ops.pipeline_runs": "table", "marts._publish_info": "table", "ops.publish_info": "table",
        }
        assert con.execute("SELECT sum(sq) FROM marts.numbers_view").fetchone() == (91,)
        assert con.execute("SELECT run_id, tables FROM marts._publish_info").fetchone() == ("run-a", 4)
        assert con.execute("SELECT run_id, tables FROM ops.publish_info").fetchone() == ("run-a", 4)
    assert result.tables == 4
    assert read_pointer(settings.parquet_dir) == "run-a"
    with duckdb.connect() as con:
        parquet = con.execute(
            f"SELECT count(*) FROM read_parquet('{settings.parquet_dir}/run-a/build_stamp/*.parquet')").fetchone()
    assert parquet == (builds.stamp_rows("run-a"),)
    assert not Path(f"{settings.serving_db}.wal").exists()
    assert [r.build for r in history.read_history(settings.builds_dir)] == ["run-a"]
    for target in (settings.serving, settings.serving_db):  # any engine's serving warehouse, or the file
        info = kept_builds.served_info(target)
        assert info is not None and (info.run_id, info.tables) == ("run-a", 4)


def test_concurrent_reader_never_fails_and_never_sees_a_torn_build(settings: Settings, builds: StampedBuilds, tmp_path: Path) -> None:
    """A reader process looping over serving.duckdb while publishes replace it: zero failed reads, and
    every read sees exactly one build's run_id with that build's row count and checksum."""
    runs = [f"run-{i}" for i in range(6)]
    builds.publish(runs[0])
    checksums = {runs[0]: _checksum(settings.serving_db)}
    reader, out, stop = _start_reader("duckdb", settings.serving_db, tmp_path, "duckdb")
    try:
        for run_id in runs[1:]:
            builds.publish(run_id)
            checksums[run_id] = _checksum(settings.builds_dir / f"{run_id}.duckdb")
        _wait_for(lambda: any(r.get("run_ids") == [runs[-1]] for r in _reads(out)), "a read of the last build")
    finally:
        stop.touch()
        reader.wait(timeout=60)
    reads = _reads(out)
    assert [r for r in reads if not r["ok"]] == []
    for r in reads:
        (run_id,) = r["run_ids"]
        assert r["info_run_id"] == run_id
        assert r["rows"] == builds.stamp_rows(run_id)
        assert r["checksum"] == checksums[run_id]
    assert {r["run_ids"][0] for r in reads} >= {runs[0], runs[-1]}


def test_parquet_and_duckdb_readers_over_20_swaps_see_no_torn_read_and_no_error(
        settings: Settings, builds: StampedBuilds, tmp_path: Path) -> None:
    """Two Parquet readers (resolve parquet/CURRENT once, read two tables) and a DuckDB reader loop
    while 20 swaps (publishes and rollbacks) happen: 0 read errors, and every Parquet read has both
    tables from the build CURRENT named, with that build's row counts and checksum (0 torn reads)."""
    runs = ["s0", "s1", "s2"]
    for run_id in runs:
        builds.publish(run_id)
    checksums = {r: _checksum(settings.builds_dir / f"{r}.duckdb") for r in runs}
    readers = [_start_reader("parquet", settings.parquet_dir, tmp_path, f"pq{i}") for i in range(2)]
    readers.append(_start_reader("duckdb", settings.serving_db, tmp_path, "db"))
    swaps = 0
    try:
        for i in range(20):
            if i % 5 == 4:  # a publish now and then: new builds, pruning of old ones
                run_id = f"s{len(runs)}"
                builds.publish(run_id)
                runs.append(run_id)
                checksums[run_id] = _checksum(settings.builds_dir / f"{run_id}.duckdb")
            else:
                kept = [r.build for r in history.read_history(settings.builds_dir)
                        if (settings.builds_dir / f"{r.build}.duckdb").exists()]
                rollback(settings, to=kept[-1 - (i % 2)])
            swaps += 1
            time.sleep(0.05)
        for _, out, _ in readers:
            _wait_for(lambda out=out: len(_reads(out)) > 20, "reads spanning the swaps")
    finally:
        for proc, _, stop in readers:
            stop.touch()
            proc.wait(timeout=60)
    assert swaps == 20
    parquet_reads = [r for _, out, _ in readers[:2] for r in _reads(out)]
    duckdb_reads = _reads(readers[2][1])
    errors = [r for r in parquet_reads + duckdb_reads if not r["ok"]]
    torn = [r for r in parquet_reads if r["ok"] and not (
        r["run_ids"] == [r["build"]] == r["run_ids_b"] and r["rows"] == builds.stamp_rows(r["build"])
        and r["rows_b"] == builds.stamp_rows(r["build"]) + 1 and r["checksum"] == checksums[r["build"]])]
    assert (len(errors), len(torn)) == (0, 0), (errors[:3], torn[:3])
    assert len({r["build"] for r in parquet_reads}) >= 2, "the readers never saw a swap"
    assert all(len(r["run_ids"]) == 1 for r in duckdb_reads)


def test_failed_publish_leaves_serving_and_kept_builds_untouched(settings: Settings, builds: StampedBuilds) -> None:
    """An error mid-copy (a view that fails when materialised) raises PublishError; the served file,
    parquet/CURRENT, the served history and the kept builds are exactly as before, and no partial is left."""
    builds.publish("good")
    before = settings.serving_db.read_bytes()
    with pytest.raises(PublishError, match=r"marts\.zz_broken"):
        builds.publish("bad", broken_view=True)
    assert settings.serving_db.read_bytes() == before
    assert builds.served_run_id() == "good"
    assert read_pointer(settings.parquet_dir) == "good"
    assert sorted(p.name for p in settings.builds_dir.iterdir()) == [".publish.lock", "good.duckdb", "served.jsonl"]
    assert sorted(p.name for p in settings.parquet_dir.iterdir()) == ["CURRENT", "good"]


def test_dead_publish_leftovers_are_cleaned_and_never_offered(settings: Settings, builds: StampedBuilds) -> None:
    """What a killed publish leaves (a partial build, an export in progress, a half-copied serving file,
    all named with the dead writer's pid) is ignored by rollback and removed by the next publish."""
    builds.publish("first")
    dead_pid = 2**22 + 12345  # above pid_max's default: never a live process
    leftovers = [
        settings.builds_dir / f".second.duckdb.{dead_pid}.partial",
        settings.parquet_dir / f".second.{dead_pid}.partial",
        settings.warehouse_dir / f".serving.duckdb.{dead_pid}.incoming",
        settings.parquet_dir / f".CURRENT.{dead_pid}.incoming",
    ]
    for p in leftovers:
        p.write_bytes(b"half a file")
    assert builds.served_run_id() == "first"
    builds.publish("third")
    assert [p for p in leftovers if p.exists()] == []
    assert builds.served_run_id() == "third"


def test_rollback_restores_the_previous_build_and_can_target_one(settings: Settings, builds: StampedBuilds) -> None:
    """rollback() serves the build published before the current one (also re-points parquet/CURRENT);
    rollback(to=...) serves a named kept build; an unknown name is an error naming the kept builds;
    every swap is appended to the served history."""
    for run_id in ("r1", "r2", "r3"):
        builds.publish(run_id)
    assert rollback(settings).run_id == "r2"
    assert builds.served_run_id() == "r2"
    assert read_pointer(settings.parquet_dir) == "r2"
    assert rollback(settings).run_id == "r1"
    with pytest.raises(PublishError, match="oldest kept"):
        rollback(settings)
    assert rollback(settings, to="r3").run_id == "r3"
    assert builds.served_run_id() == "r3"
    with pytest.raises(PublishError, match="r1, r2, r3"):
        rollback(settings, to="nope")
    assert [(r.build, r.action) for r in history.read_history(settings.builds_dir)] == [
        ("r1", "publish"), ("r2", "publish"), ("r3", "publish"), ("r2", "rollback"), ("r1", "rollback"),
        ("r3", "rollback")]
    assert history.served_history(settings) == history.read_history(settings.builds_dir)


def test_a_build_that_was_never_served_is_never_rolled_back_to(settings: Settings, builds: StampedBuilds) -> None:
    """A build file finalised under builds/ but never swapped in (a run killed between the two; here
    written by hand) is not a rollback target, and the next start deletes it with its export."""
    builds.publish("r1")
    builds.publish("r2")
    (settings.builds_dir / "r2.duckdb").rename(settings.builds_dir / "r2.keep")
    builds.publish("r3")  # finalised ...
    (settings.builds_dir / "r3.duckdb").rename(settings.builds_dir / "r3.keep")
    # ... rewind serving, CURRENT and history to "r2 served, r3 only finalised"
    (settings.builds_dir / "r2.keep").rename(settings.builds_dir / "r2.duckdb")
    rollback(settings, to="r2")
    lines = (settings.builds_dir / "served.jsonl").read_text().splitlines()
    (settings.builds_dir / "served.jsonl").write_text("\n".join(lines[:2] + lines[-1:]) + "\n")
    (settings.builds_dir / "r3.keep").rename(settings.builds_dir / "r3.duckdb")
    assert (settings.parquet_dir / "r3").is_dir()
    assert rollback(settings).run_id == "r1"
    assert not (settings.builds_dir / "r3.duckdb").exists()
    assert not (settings.parquet_dir / "r3").exists()
    with pytest.raises(PublishError, match="r1, r2"):
        rollback(settings, to="r3")


def test_only_the_last_n_builds_are_kept(settings: Settings, builds: StampedBuilds) -> None:
    """publish.keep_builds (3 here) bounds the kept builds: older ones and their exports are pruned."""
    for i in range(5):
        builds.publish(f"b{i}")
    assert sorted(p.name for p in settings.builds_dir.glob("*.duckdb")) == ["b2.duckdb", "b3.duckdb", "b4.duckdb"]
    assert sorted(p.name for p in settings.parquet_dir.iterdir()) == ["CURRENT", "b2", "b3", "b4"]


def test_legacy_parquet_symlink_is_migrated(settings: Settings, builds: StampedBuilds) -> None:
    """A warehouse published before per-build exports (parquet -> builds/<build>.parquet, no history)
    becomes parquet/<build>/ + CURRENT at the next publish; its served build is seeded into the history
    and stays a rollback target."""
    builds.publish("old")
    legacy = settings.builds_dir / "old.parquet"
    os.replace(settings.parquet_dir / "old", legacy)
    for p in settings.parquet_dir.iterdir():
        p.unlink()
    settings.parquet_dir.rmdir()
    settings.parquet_dir.symlink_to(os.path.relpath(legacy, settings.warehouse_dir))
    (settings.builds_dir / "served.jsonl").unlink()
    builds.publish("new")
    assert settings.parquet_dir.is_dir() and not settings.parquet_dir.is_symlink()
    assert not legacy.exists()
    assert rollback(settings).run_id == "old"
    assert read_pointer(settings.parquet_dir) == "old"
    assert (settings.parquet_dir / "old" / "build_stamp").is_dir()


def test_serving_is_group_readable_and_builds_are_private(settings: Settings, builds: StampedBuilds) -> None:
    """serving.duckdb and the Parquet export are 0640/0750 for the serving group (KAM_SERVING_GROUP,
    default the pipeline's group); the kept builds and the served history are the owner's only."""
    builds.publish("p1")
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(settings.serving_db) == 0o640
    assert settings.serving_db.stat().st_gid == os.getgid()
    assert mode(settings.parquet_dir) == 0o750
    assert mode(settings.parquet_dir / "CURRENT") == 0o640
    assert mode(settings.parquet_dir / "p1" / "build_stamp") == 0o750
    assert mode(settings.parquet_dir / "p1" / "build_stamp" / "build_stamp.parquet") == 0o640
    assert mode(settings.warehouse_dir) == 0o750
    assert mode(settings.builds_dir / "served.jsonl") == 0o600
    assert mode(settings.builds_dir / "p1.duckdb") & 0o077 == 0


def test_publish_without_a_build_warehouse_is_an_actionable_error(settings: Settings, builds: StampedBuilds) -> None:
    """Publishing before any build exists says what to run instead of creating an empty serving file."""
    with pytest.raises(PublishError, match="kam run"):
        publish(settings, run_id="x")
    assert not settings.serving_db.exists()
