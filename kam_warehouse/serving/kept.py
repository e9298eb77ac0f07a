"""What publish and rollback return, and which kept build a rollback serves (both engines).

A kept build is a file under builds/ (builds.BuildInfo) on the embedded engine, a pair of schemas of
the serving database (KeptBuild) on a server warehouse; rollback picks among those that were served.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar

from kam_warehouse.core.configuration import load_pipeline
from kam_warehouse.core.warehouse.publishing import KeptBuild
from kam_warehouse.serving import builds
from kam_warehouse.serving.errors import PublishError
from kam_warehouse.settings import Settings


@dataclass(frozen=True)
class PublishResult:
    serving_path: Path | str  # serving.duckdb, or where a server warehouse serves (schemas marts, ops)
    build_path: Path | str  # the kept build file, or its schemas on a server warehouse
    tables: int
    parquet_dir: Path
    run_id: str
    pruned: list[str] = field(default_factory=list)


def keep_builds(settings: Settings) -> int:
    """`publish.keep_builds` of config/pipeline.yml (>= 2: the served build and one to roll back to)."""
    return load_pipeline(settings.config_dir).publish.keep_builds


class _Kept(Protocol):
    """A kept build on either engine (builds.BuildInfo: a file; KeptBuild: schemas of a server warehouse)."""

    @property
    def run_id(self) -> str: ...
    @property
    def published_at(self) -> datetime: ...


_K = TypeVar("_K", bound=_Kept)


def _names(b: _Kept) -> tuple[str, ...]:
    """What `--to` may name a kept build by: its name, run id, file name or schema tag."""
    if isinstance(b, KeptBuild):
        return b.build, b.run_id, b.tag
    assert isinstance(b, builds.BuildInfo)
    return b.name, b.run_id, b.path.name


def find_kept(kept: list[_K], to: str) -> _K:
    for b in kept:
        if to in _names(b):
            return b
    names = ", ".join(_names(b)[0] for b in kept)
    raise PublishError(f"no kept build named {to!r} that was served; served builds kept (oldest first): {names}")


def previous_kept(kept: list[_K], current: _K | None) -> _K:
    if current is None:
        return kept[-1]
    older = [b for b in kept if (b.published_at, _names(b)[0]) < (current.published_at, _names(current)[0])
             and b.run_id != current.run_id]
    if not older:
        raise PublishError(
            f"nothing to roll back to: the served build (run {current.run_id}) is the oldest kept one; "
            "pass --to BUILD to choose another kept build"
        )
    return older[-1]
