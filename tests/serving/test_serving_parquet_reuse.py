"""A mart whose content did not change since the served build keeps its Parquet file: the new export
hard-links it, and it equals what a fresh export would write (same columns, types and rows)."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from kam_warehouse.core.warehouse.file_builds import (
    content_fingerprint,
    export_parquet,
    mart_tables,
    parquet_fingerprint,
    write_build_file,
)
from kam_warehouse.serving import parquet_export, publish
from kam_warehouse.settings import Settings

if TYPE_CHECKING:
    from conftest import StampedBuilds


def _file(settings: Settings, build: str, table: str) -> Path:
    return settings.parquet_dir / build / table / f"{table}.parquet"


def _contents(file: Path) -> tuple[list, list]:
    """(column names and types, sorted rows) of a Parquet file."""
    with duckdb.connect() as con:
        columns = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{file}')").fetchall()
        rows = con.execute(f"SELECT * FROM read_parquet('{file}') ORDER BY ALL").fetchall()
    return [(c[0], c[1]) for c in columns], rows


def test_unchanged_marts_are_linked_and_equal_a_fresh_export(settings: Settings, builds: StampedBuilds,
                                                             tmp_path: Path) -> None:
    """numbers_view is the same in every build, build_stamp is stamped with the run: the second publish
    links the first's numbers_view file and writes build_stamp anew; every file of its export equals a
    fresh export of its build file, and a linked file outlives the build it was first written for."""
    builds.publish("p1")
    builds.publish("p2")
    same = _file(settings, "p1", "numbers_view").stat()
    linked = _file(settings, "p2", "numbers_view").stat()
    assert (linked.st_ino, linked.st_nlink) == (same.st_ino, 2)
    assert stat.S_IMODE(linked.st_mode) == 0o640
    assert _file(settings, "p2", "build_stamp").stat().st_ino != _file(settings, "p1", "build_stamp").stat().st_ino

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    build = settings.builds_dir / "p2.duckdb"
    tables = mart_tables(build)
    assert export_parquet(build, fresh, tables) == []  # no reuse_from: every file written
    with duckdb.connect() as con:
        for table in tables:
            ours, theirs = _file(settings, "p2", table), fresh / table / f"{table}.parquet"
            assert _contents(ours) == _contents(theirs), table
            assert parquet_fingerprint(con, ours) == parquet_fingerprint(con, theirs) is not None, table

    for run_id in ("p3", "p4"):  # keep_builds 3: p1 (where numbers_view was written) is pruned
        builds.publish(run_id)
    assert not (settings.parquet_dir / "p1").exists()
    assert _file(settings, "p4", "numbers_view").stat().st_ino == same.st_ino
    assert _contents(_file(settings, "p4", "numbers_view")) == _contents(fresh / "numbers_view" / "numbers_view.parquet")


def test_a_file_without_a_fingerprint_or_with_other_content_is_written_anew(settings: Settings,
                                                                            builds: StampedBuilds) -> None:
    """An export written before fingerprints (no kam_content metadata) is never linked; nor is one of a
    table whose column types changed while its values did not."""
    builds.publish("p1")
    old = _file(settings, "p1", "numbers_view")
    with duckdb.connect() as con:  # as an older publish wrote it: same rows, no fingerprint
        con.execute(f"COPY (SELECT * FROM read_parquet('{old}')) TO '{old}.tmp' (FORMAT parquet)")
    Path(f"{old}.tmp").replace(old)
    builds.publish("p2")
    assert _file(settings, "p2", "numbers_view").stat().st_ino != old.stat().st_ino
    with duckdb.connect() as con:
        assert parquet_fingerprint(con, old) is None
        assert parquet_fingerprint(con, _file(settings, "p2", "numbers_view")) is not None

    builds.write("p3")
    with duckdb.connect(str(settings.build_db)) as con:  # same values, BIGINT -> DOUBLE
        con.execute("CREATE OR REPLACE VIEW marts.numbers_view AS SELECT n::DOUBLE AS n, (n * n)::DOUBLE AS sq "
                    "FROM staging.stg_numbers")
    publish(settings, run_id="p3")
    assert _file(settings, "p3", "numbers_view").stat().st_ino != _file(settings, "p2", "numbers_view").stat().st_ino
    assert _contents(_file(settings, "p3", "numbers_view"))[0] == [("n", "DOUBLE"), ("sq", "DOUBLE")]


@pytest.mark.parametrize(("other", "equal"), [
    ("SELECT * FROM (VALUES (2, 'b'), (1, 'a'), (3, NULL)) v(i, s)", True),       # another row order
    ("SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) v(i, s)", False),       # a value
    ("SELECT * FROM (VALUES (1, 'b'), (2, 'a'), (3, NULL)) v(i, s)", False),      # values swapped between rows
    ("SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v(i, s)", False),                 # a row less
    ("SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, NULL), (3, NULL)) v(i, s)", False),  # a duplicate row
    ("SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, NULL)) v(j, s)", False),      # a column's name
    ("SELECT i::BIGINT AS i, s FROM (VALUES (1, 'a'), (2, 'b'), (3, NULL)) v(i, s)", False),  # a column's type
    ("SELECT s, i FROM (VALUES (1, 'a'), (2, 'b'), (3, NULL)) v(i, s)", False),   # the column order
])
def test_content_fingerprint_is_the_columns_and_the_multiset_of_rows(other: str, equal: bool) -> None:
    with duckdb.connect() as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.a AS SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, NULL)) v(i, s)")
        con.execute(f"CREATE TABLE marts.b AS {other}")
        assert (content_fingerprint(con, "marts", "a") == content_fingerprint(con, "marts", "b")) is equal


def test_build_counts_of_views_are_the_rows_copied_and_match_the_source(settings: Settings, builds: StampedBuilds,
                                                                        tmp_path: Path) -> None:
    """A view's row count for the audit is the number of rows its copy read; it is the view's count."""
    builds.write("c1")
    counts = write_build_file(settings.build_db, tmp_path / "c1.duckdb", run_id="c1", as_of=None)
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        expected = {name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in counts}
    assert counts == expected and counts["marts.numbers_view"] == 7


def test_reuse_source_is_the_served_export(settings: Settings, builds: StampedBuilds) -> None:
    assert parquet_export.reused_source(settings.parquet_dir) is None
    builds.publish("p1")
    assert parquet_export.reused_source(settings.parquet_dir) == settings.parquet_dir / "p1"
