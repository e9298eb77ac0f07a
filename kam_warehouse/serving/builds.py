"""The published builds kept under `Settings.builds_dir` for rollback, and which one is served.

Layout (one build = one run):

    builds/<build>.duckdb              the published warehouse file of that run (never modified after publish)
    builds/.<build>.duckdb.<pid>.partial  a publish in progress (or killed); never read, removed at the next start
    builds/served.jsonl                the served history (kam_warehouse.serving.history)
    parquet/<build>/<table>/<table>.parquet  its Parquet export (kam_warehouse.serving.parquet_export)

Every build file carries one row in `marts._publish_info` (run_id, published_at, as_of_date, tables).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from kam_warehouse.core.files import PARTIAL, pid_alive, remove_quietly, temp_owner, temp_path
from kam_warehouse.core.warehouse import WarehouseError, WarehouseTarget, as_warehouse, connect
from kam_warehouse.core.warehouse.file_builds import read_publish_info
from kam_warehouse.core.warehouse.publishing import PUBLISH_INFO

log = logging.getLogger(__name__)

PARTIAL_SUFFIX = f".{PARTIAL}"
LEGACY_EXPORT_SUFFIX = ".parquet"  # builds/<build>.parquet/: exports before per-build parquet/<build>/


@dataclass(frozen=True)
class BuildInfo:
    name: str
    path: Path
    run_id: str
    published_at: datetime
    as_of_date: date | None
    tables: int | None = None


#: build files never change once published; serving.duckdb changes inode with every swap
_info_cache: dict[tuple[str, int, int, int], BuildInfo] = {}


def build_name(run_id: str) -> str:
    """A file-system-safe name for a run's build (Airflow run ids contain ':' and '+')."""
    name = re.sub(r"[^A-Za-z0-9_.+-]", "_", run_id).lstrip(".")
    return name or "build"


def build_path(builds_dir: Path, name: str) -> Path:
    return builds_dir / f"{name}.duckdb"


def export_root(builds_dir: Path) -> Path:
    """`<warehouse>/parquet`: the per-build exports and their pointer (Settings.parquet_dir)."""
    return builds_dir.parent / "parquet"


def export_path(builds_dir: Path, name: str) -> Path:
    return export_root(builds_dir) / name


def partial_path(final: Path) -> Path:
    """Where this process writes `final` before renaming it into place."""
    return temp_path(final, PARTIAL)


def read_info(db_file: Path) -> BuildInfo | None:
    """The `_publish_info` row of a published file, or None when the file is missing or not a build."""
    try:
        st = db_file.stat()
    except FileNotFoundError:
        return None
    key = (str(db_file), st.st_ino, st.st_mtime_ns, st.st_size)
    if key in _info_cache:
        return _info_cache[key]
    row = read_publish_info(db_file)
    if row is None:
        return None
    info = BuildInfo(name=build_name(row[0]), path=db_file, run_id=row[0], published_at=row[1], as_of_date=row[2],
                     tables=row[3])
    if len(_info_cache) > 256:
        _info_cache.clear()
    _info_cache[key] = info
    return info


def same_info(copy: Path, original: Path) -> None:
    """`copy` was just made a byte copy of the build file `original`: it has the same publish info."""
    info = read_info(original)
    st = copy.stat()
    if info is not None:
        _info_cache[(str(copy), st.st_ino, st.st_mtime_ns, st.st_size)] = BuildInfo(
            name=info.name, path=copy, run_id=info.run_id, published_at=info.published_at,
            as_of_date=info.as_of_date, tables=info.tables)


def served_info(serving: WarehouseTarget) -> BuildInfo | None:
    """The build the serving warehouse serves (Settings.serving, any engine; a path = serving.duckdb),
    from its marts._publish_info; None before the first publish. `path` is the serving file, or where
    a server warehouse serves (for messages)."""
    warehouse = as_warehouse(serving)
    if isinstance(serving, Path | str):
        return read_info(Path(serving))
    if not warehouse.exists():
        return None
    try:
        with connect(warehouse, read_only=True) as con:
            if not con.has_relation("marts", PUBLISH_INFO.split(".", 1)[1]):
                return None
            row = con.execute(f"SELECT run_id, published_at, as_of_date, tables FROM {PUBLISH_INFO}").fetchone()
    except WarehouseError:
        return None
    if row is None:
        return None
    return BuildInfo(name=build_name(row[0]), path=Path(warehouse.describe()), run_id=row[0], published_at=row[1],
                     as_of_date=row[2], tables=row[3])


def served_build(serving_db: Path) -> BuildInfo | None:
    """The build serving.duckdb holds (its name is derived from the run id in its _publish_info)."""
    return read_info(serving_db)


def kept_builds(builds_dir: Path) -> list[BuildInfo]:
    """Every complete build file under builds/, oldest publish first (served or not: see history)."""
    if not builds_dir.is_dir():
        return []
    infos = [read_info(p) for p in builds_dir.glob("*.duckdb") if not p.name.startswith(".")]
    return sorted((i for i in infos if i is not None), key=lambda i: (i.published_at, i.name))


def dead_temporaries(folder: Path) -> list[Path]:
    """Hidden `.<name>.<pid>.incoming|partial` files of `folder` whose writer is no longer alive
    (and pid-less `.*.partial` files from before temporaries carried a pid)."""
    if not folder.is_dir():
        return []
    dead = []
    for p in folder.glob(".*"):
        pid = temp_owner(p)
        if (pid is not None and not pid_alive(pid)) or (pid is None and p.name.endswith(PARTIAL_SUFFIX)):
            dead.append(p)
    return dead


def remove_partials(builds_dir: Path) -> list[Path]:
    """Remove what a failed or killed publish left behind under builds/ and parquet/ (never a live
    writer's file: the pid in the name must be dead)."""
    removed = [*dead_temporaries(builds_dir), *dead_temporaries(export_root(builds_dir))]
    for p in removed:
        remove_quietly(p)
    return removed


def remove_build(builds_dir: Path, name: str) -> None:
    remove_quietly(export_path(builds_dir, name))
    remove_quietly(builds_dir / f"{name}{LEGACY_EXPORT_SUFFIX}")
    remove_quietly(build_path(builds_dir, name))


def prune(builds_dir: Path, *, keep: int, protect: set[str]) -> list[str]:
    """Delete all but the newest `keep` builds (never one named in `protect`) with their exports, and
    exports of builds no longer kept; return the build names removed."""
    builds = kept_builds(builds_dir)
    removable = [b for b in builds[: max(len(builds) - keep, 0)] if b.name not in protect]
    for b in removable:
        remove_build(builds_dir, b.name)
    remaining = {b.name for b in builds} - {b.name for b in removable}
    for orphan in orphan_exports(builds_dir, remaining | protect):
        remove_quietly(orphan)
    return [b.name for b in removable]


def orphan_exports(builds_dir: Path, kept: set[str]) -> list[Path]:
    """Export folders whose build is gone, and every legacy `builds/<build>.parquet/` folder."""
    root = export_root(builds_dir)
    found = [p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
             and p.name not in kept] if root.is_dir() and not root.is_symlink() else []
    if builds_dir.is_dir():  # legacy exports are never read again: a rollback re-exports into parquet/
        found += [p for p in builds_dir.glob(f"*{LEGACY_EXPORT_SUFFIX}") if p.is_dir()]
    return found
