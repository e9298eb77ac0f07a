"""The published builds kept under `Settings.builds_dir` for rollback, and which one is served.

Layout (one build = one run):

    builds/<build>.duckdb     the published warehouse file of that run (never modified after publish)
    builds/<build>.parquet/   its Parquet export, one folder per mart
    builds/.<build>.*.partial a publish in progress (or killed); never read, removed by the next publish

Every build file carries one row in `marts._publish_info` (run_id, published_at, as_of_date, tables).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from kam_warehouse.serving.files import remove_quietly

PUBLISH_INFO = "marts._publish_info"
PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class BuildInfo:
    name: str
    path: Path
    run_id: str
    published_at: datetime
    as_of_date: date | None

    @property
    def parquet_path(self) -> Path:
        return parquet_path(self.path.parent, self.name)


def build_name(run_id: str) -> str:
    """A file-system-safe name for a run's build (Airflow run ids contain ':' and '+')."""
    name = re.sub(r"[^A-Za-z0-9_.+-]", "_", run_id).lstrip(".")
    return name or "build"


def build_path(builds_dir: Path, name: str) -> Path:
    return builds_dir / f"{name}.duckdb"


def parquet_path(builds_dir: Path, name: str) -> Path:
    return builds_dir / f"{name}.parquet"


def partial_path(final: Path) -> Path:
    return final.with_name(f".{final.name}{PARTIAL_SUFFIX}")


def read_info(db_file: Path) -> BuildInfo | None:
    """The `_publish_info` row of a published file, or None when the file is missing or not a build."""
    if not db_file.exists():
        return None
    try:
        with duckdb.connect(str(db_file), read_only=True) as con:
            row = con.execute(f"SELECT run_id, published_at, as_of_date FROM {PUBLISH_INFO}").fetchone()
    except duckdb.Error:
        return None
    if row is None:
        return None
    name = db_file.name.removesuffix(".duckdb")
    return BuildInfo(name=name, path=db_file, run_id=row[0], published_at=row[1], as_of_date=row[2])


def kept_builds(builds_dir: Path) -> list[BuildInfo]:
    """Every complete kept build, oldest publish first."""
    if not builds_dir.is_dir():
        return []
    infos = [read_info(p) for p in builds_dir.glob("*.duckdb") if not p.name.startswith(".")]
    return sorted((i for i in infos if i is not None), key=lambda i: (i.published_at, i.name))


def remove_partials(builds_dir: Path) -> None:
    """Remove what a failed or killed publish left behind (publishes are serialised by the caller)."""
    if builds_dir.is_dir():
        for p in builds_dir.glob(f".*{PARTIAL_SUFFIX}*"):
            remove_quietly(p)


def prune(builds_dir: Path, *, keep: int, protect: set[str]) -> list[str]:
    """Delete all but the newest `keep` builds (never one named in `protect`); return the names removed."""
    builds = kept_builds(builds_dir)
    removable = [b for b in builds[: max(len(builds) - keep, 0)] if b.name not in protect]
    for b in removable:
        remove_quietly(b.parquet_path)
        remove_quietly(b.path)
    return [b.name for b in removable]
