"""Parquet exports of every mart, for tools that read files rather than DuckDB (Power BI, Spark, pandas).

Each build gets its own folder `builds/<build>.parquet/<table>/<table>.parquet`; readers use the
stable path `Settings.parquet_dir` (`<warehouse>/parquet`), a symlink that publish and rollback
re-point atomically to the served build's folder. So `<warehouse>/parquet/<table>/` always holds one
complete build's file, and a reader that already resolved the old link finishes on the old build.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from kam_warehouse.serving.builds import partial_path
from kam_warehouse.serving.copy import mart_tables
from kam_warehouse.serving.files import fsync_dir, fsync_tree, point_symlink, remove_quietly


def export_marts(db_file: Path, out_dir: Path) -> list[str]:
    """Write every `marts` table of `db_file` to `out_dir/<table>/<table>.parquet`, all-or-nothing."""
    tables = mart_tables(db_file)
    tmp = partial_path(out_dir)
    remove_quietly(tmp)
    try:
        with duckdb.connect(str(db_file), read_only=True) as con:
            for table in tables:
                (tmp / table).mkdir(parents=True)
                target = str(tmp / table / f"{table}.parquet").replace("'", "''")
                con.execute(f'COPY (SELECT * FROM marts."{table}") TO \'{target}\' (FORMAT parquet)')
        tmp.mkdir(parents=True, exist_ok=True)
        fsync_tree(tmp)
        remove_quietly(out_dir)
        os.replace(tmp, out_dir)
        fsync_dir(out_dir.parent)
    except BaseException:
        remove_quietly(tmp)
        raise
    return tables


def expose(parquet_dir: Path, build_export: Path) -> None:
    """Point the stable `parquet_dir` at a build's export (relative link, so the warehouse can move)."""
    parquet_dir.parent.mkdir(parents=True, exist_ok=True)
    point_symlink(parquet_dir, os.path.relpath(build_export, parquet_dir.parent))
