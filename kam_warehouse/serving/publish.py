"""Write-audit-publish of the serving warehouse, and rollback to a kept build.

publish(settings, run_id):
  1. write  - materialise marts.* and ops.* of build.duckdb into builds/.<build>.duckdb.partial
              (CHECKPOINT, close, fsync), plus the Parquet export of every mart;
  2. audit  - reopen the new file read-only: every table present with the build's row count;
  3. publish- rename the partial to builds/<build>.duckdb, then make serving.duckdb a copy of it by an
              atomic os.replace in the warehouse folder, and re-point the `parquet` symlink;
  4. prune  - keep the newest `publish.keep_builds` builds (config/pipeline.yml).
A failure or a kill before step 3 leaves serving.duckdb, the parquet link and the kept builds as they
were; the partial files are removed by the next publish.

Readers open serving.duckdb read-only. A reader that holds the old file open keeps reading the old
(unlinked) inode until it closes; the next open sees the new build. The served file never has a .wal:
it is checkpointed before it is exposed and read-only readers do not write one; a stale .wal left by
someone who opened it read-write is removed before the swap, so it cannot be replayed onto a new build.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from kam_warehouse.config import load_yaml, setting
from kam_warehouse.serving import builds, parquet_export
from kam_warehouse.serving.copy import audit_build_file, mart_tables, write_build_file
from kam_warehouse.serving.errors import PublishError
from kam_warehouse.serving.files import fsync_dir, fsync_file, remove_quietly, replace_with_copy
from kam_warehouse.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishResult:
    serving_path: Path
    build_path: Path
    tables: int
    parquet_dir: Path
    run_id: str
    pruned: list[str] = field(default_factory=list)


def keep_builds(settings: Settings) -> int:
    config = load_yaml(settings.config_dir, "pipeline.yml")
    value = setting(config, "publish.keep_builds", source=str(settings.config_dir / "pipeline.yml"))
    if not isinstance(value, int) or value < 2:
        raise PublishError(
            f"{settings.config_dir / 'pipeline.yml'}: publish.keep_builds must be an integer >= 2 "
            f"(the served build and one to roll back to), got {value!r}"
        )
    return value


def publish(settings: Settings, *, run_id: str) -> PublishResult:
    """Publish the build warehouse's marts and ops as the new serving warehouse (see module docstring)."""
    from kam_warehouse.pipeline import as_of_date

    if not settings.build_db.exists():
        raise PublishError(f"nothing to publish: the build warehouse {settings.build_db} does not exist; run `kam run`")
    keep = keep_builds(settings)
    settings.builds_dir.mkdir(parents=True, exist_ok=True)
    builds.remove_partials(settings.builds_dir)

    name = builds.build_name(run_id)
    final = builds.build_path(settings.builds_dir, name)
    partial = builds.partial_path(final)
    try:
        counts = write_build_file(settings.build_db, partial, run_id=run_id, as_of=as_of_date(settings.build_db))
        audit_build_file(partial, counts, run_id=run_id)
        fsync_file(partial)
        os.replace(partial, final)
        fsync_dir(settings.builds_dir)
    except BaseException:
        remove_quietly(partial)
        remove_quietly(partial.with_name(partial.name + ".wal"))
        raise
    export = builds.parquet_path(settings.builds_dir, name)
    parquet_export.export_marts(final, export)

    _expose(settings, final, export)
    pruned = builds.prune(settings.builds_dir, keep=keep, protect={name})
    log.info("published run %s (%d tables); pruned %s", run_id, len(counts), pruned or "nothing")
    return PublishResult(serving_path=settings.serving_db, build_path=final, tables=len(counts),
                         parquet_dir=settings.parquet_dir, run_id=run_id, pruned=pruned)


def rollback(settings: Settings, *, to: str | None = None) -> PublishResult:
    """Serve a kept build again: `to` (a build name or run id) or, by default, the one published
    before the currently served build. Newer builds stay kept (a later rollback can go forward)."""
    kept = builds.kept_builds(settings.builds_dir)
    if not kept:
        raise PublishError(f"nothing to roll back to: no kept builds under {settings.builds_dir}")
    target = _find(kept, to) if to else _previous(kept, builds.read_info(settings.serving_db))
    export = target.parquet_path
    if not export.is_dir():
        parquet_export.export_marts(target.path, export)
    _expose(settings, target.path, export)
    log.info("rolled back the serving warehouse to run %s", target.run_id)
    return PublishResult(serving_path=settings.serving_db, build_path=target.path,
                         tables=len(mart_tables(target.path)), parquet_dir=settings.parquet_dir,
                         run_id=target.run_id)


def _find(kept: list[builds.BuildInfo], to: str) -> builds.BuildInfo:
    for b in kept:
        if to in (b.name, b.run_id, b.path.name):
            return b
    names = ", ".join(b.name for b in kept)
    raise PublishError(f"no kept build named {to!r}; kept builds (oldest first): {names}")


def _previous(kept: list[builds.BuildInfo], current: builds.BuildInfo | None) -> builds.BuildInfo:
    if current is None:
        return kept[-1]
    older = [b for b in kept if (b.published_at, b.name) < (current.published_at, current.name)
             and b.run_id != current.run_id]
    if not older:
        raise PublishError(
            f"nothing to roll back to: the served build (run {current.run_id}) is the oldest kept one; "
            "pass --to BUILD to choose another kept build"
        )
    return older[-1]


def _expose(settings: Settings, build_file: Path, export: Path) -> None:
    serving = settings.serving_db
    serving.parent.mkdir(parents=True, exist_ok=True)
    stale_wal = serving.with_name(serving.name + ".wal")
    if stale_wal.exists():
        log.warning("removing %s: the served file was opened read-write; its WAL is not part of any build",
                    stale_wal)
        remove_quietly(stale_wal)
    try:
        replace_with_copy(build_file, serving)
    except OSError as exc:
        raise PublishError(f"could not replace {serving} with {build_file}: {exc}; the old file is still served") from exc
    parquet_export.expose(settings.parquet_dir, export)
