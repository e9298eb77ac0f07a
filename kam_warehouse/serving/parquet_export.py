"""Parquet exports of every mart, for tools that read files rather than DuckDB (Power BI, Spark, pandas).

Layout under `Settings.parquet_dir` (`<warehouse>/parquet`):

    parquet/<build>/<table>/<table>.parquet   one folder per published build, never modified once written
    parquet/CURRENT                           the pointer: the name of the served build (no newline)

Every file carries its table's content fingerprint (Parquet key-value metadata `kam_content`: columns,
row count, sum of row hashes). A table whose fingerprint equals that of the served build's file is not
written again: the new folder gets a hard link to that file (exports are immutable, so the two folders
may share it; pruning one folder leaves the other's link). Rows in a file are in no particular order.

A reader resolves the pointer ONCE, then reads every table it needs from `parquet/<build>/`: all its
tables come from one build even if a publish or rollback re-points CURRENT meanwhile (the old build's
folder stays until it is pruned, `publish.keep_builds` publishes later). CURRENT is replaced by an
atomic rename right after serving.duckdb (kam_warehouse.serving.publish) or, on a server warehouse,
right after the schema swap (exported from the staged schemas: export_tables); the next run re-points
it if a kill fell between the two. docs/bi.md shows the pattern for DuckDB, pandas/Arrow and Spark.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kam_warehouse.core.files import fsync_dir, fsync_tree, remove_quietly, write_text_atomic
from kam_warehouse.core.warehouse.file_builds import export_parquet
from kam_warehouse.faults import fault_point
from kam_warehouse.serving.builds import partial_path
from kam_warehouse.serving.copy import mart_tables

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

POINTER = "CURRENT"


def export_marts(db_file: Path, out_dir: Path, *, share: Callable[[Path], None] | None = None,
                 reuse_from: Path | None = None) -> list[str]:
    """Write every `marts` table of `db_file` to `out_dir/<table>/<table>.parquet`, all-or-nothing.

    A table whose content (columns and rows: kam_warehouse.core.warehouse.file_builds.content_fingerprint)
    equals that of its file in `reuse_from` (another build's export, e.g. the served one: reused_source)
    gets a hard link to that file instead of a new one. `share(path)` (kam_warehouse.permissions) is
    applied to every folder and file before the rename.
    """
    tables = mart_tables(db_file)
    if reuse_from is not None and reuse_from.resolve() == out_dir.resolve():
        reuse_from = None

    def write(tmp: Path) -> None:
        reused = export_parquet(db_file, tmp, tables, on_table=lambda _table: fault_point("parquet:table_written"),
                                reuse_from=reuse_from)
        if reused:
            log.info("Parquet export %s: %d of %d tables unchanged since %s, linked: %s", out_dir.name, len(reused),
                     len(tables), reuse_from, ", ".join(reused))

    _write_export(out_dir, write, share=share)
    return tables


def reused_source(parquet_dir: Path) -> Path | None:
    """The export folder CURRENT names (the served build's), if it exists: where export_marts may find
    files to reuse."""
    name = read_pointer(parquet_dir)
    folder = parquet_dir / name if name else None
    return folder if folder is not None and folder.is_dir() else None


def export_tables(tables: list[str], read: Callable[[str], pa.Table], out_dir: Path, *,
                  share: Callable[[Path], None] | None = None) -> list[str]:
    """The same layout from Arrow tables (`read(table)`): a build a server warehouse holds."""
    import pyarrow.parquet as pq

    def write(tmp: Path) -> None:
        for table in tables:
            (tmp / table).mkdir()
            pq.write_table(read(table), tmp / table / f"{table}.parquet")
            fault_point("parquet:table_written")

    _write_export(out_dir, write, share=share)
    return tables


def _write_export(out_dir: Path, write: Callable[[Path], None], *, share: Callable[[Path], None] | None) -> None:
    """`write(tmp)` fills a hidden temporary folder; it then replaces `out_dir` by one rename."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(out_dir)
    remove_quietly(tmp)
    try:
        tmp.mkdir()
        write(tmp)
        if share is not None:
            share(tmp)
        fsync_tree(tmp)
        remove_quietly(out_dir)
        os.replace(tmp, out_dir)
        fsync_dir(out_dir.parent)
    except BaseException:
        remove_quietly(tmp)
        raise


def pointer_path(parquet_dir: Path) -> Path:
    return parquet_dir / POINTER


def read_pointer(parquet_dir: Path) -> str | None:
    """The build CURRENT names, or None when there is no pointer yet."""
    try:
        name = pointer_path(parquet_dir).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return name or None


def prepare_root(parquet_dir: Path) -> None:
    """Make `parquet_dir` a real folder. Before per-build exports it was a symlink to the served build's
    export; that link is replaced once (readers of `parquet/<table>/` move to `parquet/<build>/<table>/`)."""
    if parquet_dir.is_symlink():
        log.warning("replacing the legacy parquet symlink %s by the per-build layout parquet/<build>/ + "
                    "parquet/CURRENT (see docs/bi.md)", parquet_dir)
        parquet_dir.unlink()
    parquet_dir.mkdir(parents=True, exist_ok=True)


def point(parquet_dir: Path, build: str, *, share: Callable[[Path], None] | None = None) -> None:
    """Atomically make CURRENT name `build` (whose export folder must exist)."""
    if not (parquet_dir / build).is_dir():
        raise FileNotFoundError(f"no Parquet export {parquet_dir / build} to point {pointer_path(parquet_dir)} at")
    write_text_atomic(pointer_path(parquet_dir), build, prepare=share)  # no newline: trim() in SQL suffices
