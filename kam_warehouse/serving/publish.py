"""Write-audit-publish of the serving warehouse, and rollback to a build that was served before.

A server warehouse (PostgreSQL: a schema publisher, kam_warehouse.core.warehouse.publishing) publishes
by swapping schemas: kam_warehouse.serving.schema_publish, the same steps and guarantees. What follows
is the embedded engine's path, by file:

publish(settings, run_id), under `builds/.publish.lock` (kam_warehouse.serving.recovery):
  0. recover - clean what a killed publish left, repair serving's bookkeeping (recovery module);
  1. write   - materialise marts.* and ops.* of build.duckdb into builds/.<build>.duckdb.<pid>.partial
               (one transaction, CHECKPOINT, close, fsync);
  2. audit   - reopen the new file read-only: every table present with the build's row count (a
               table's count, or the rows its copy read from a view);
  3. final   - rename the partial to builds/<build>.duckdb and export every mart to parquet/<build>/
               (all-or-nothing; a mart whose content fingerprint equals that of its file in the served
               build's export gets a hard link to that file: kam_warehouse.serving.parquet_export);
  4. serve   - make serving.duckdb a copy of the build by an atomic os.replace in the warehouse folder,
               re-point parquet/CURRENT at parquet/<build>/ (atomic rename), append the build to the
               served history (builds/served.jsonl);
  5. prune   - keep the newest `publish.keep_builds` builds (config/pipeline.yml).
A failure or a kill before step 4 leaves serving.duckdb, parquet/CURRENT and the served history as
they were; the next start deletes the leftovers, including a build finalised but never served. A
kill inside step 4 leaves serving.duckdb old or fully new; the next start records it and re-points
parquet/CURRENT to agree with it. Only builds in the served history are rollback targets.

Readers open serving.duckdb read-only. A reader that holds the old file open keeps reading the old
(unlinked) inode until it closes; the next open sees the new build. The served file never has a .wal:
it is checkpointed before it is exposed and read-only readers do not write one; a stale .wal left by
someone who opened it read-write is removed before the swap, so it cannot be replayed onto a new build.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from kam_warehouse.core.files import fsync_dir, fsync_file, remove_quietly
from kam_warehouse.core.warehouse.publisher import schema_publisher
from kam_warehouse.core.warehouse.publishing import SchemaPublisher
from kam_warehouse.faults import fault_point
from kam_warehouse.permissions import make_private, share, share_folder_only
from kam_warehouse.serving import builds, history, parquet_export, schema_publish
from kam_warehouse.serving.copy import audit_build_file, mart_tables, write_build_file
from kam_warehouse.serving.errors import PublishError
from kam_warehouse.serving.files import replace_with_copy
from kam_warehouse.serving.kept import PublishResult, find_kept, keep_builds, previous_kept
from kam_warehouse.serving.lock import publish_lock
from kam_warehouse.serving.recovery import recover_locked
from kam_warehouse.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["ALL_POINTS", "PublishResult", "keep_builds", "publish", "rollback"]

#: every fault point on the publish/rollback path, in the order a publish reaches them
ALL_POINTS: tuple[str, ...] = (
    "publish:table_copied#1", "publish:partial_written", "publish:build_final", "parquet:table_written#1",
    "publish:exported", "copy:incoming_written", "serve:serving_swapped", "serve:pointer_switched",
    "serve:recorded", "publish:pruned",
)


def publish(settings: Settings, *, run_id: str) -> PublishResult:
    """Publish the build warehouse's marts and ops as the new serving warehouse (see module docstring)."""
    from kam_warehouse.asof import as_of_date

    keep = keep_builds(settings)
    if (publisher := _schema_publisher(settings)) is not None:
        return schema_publish.publish(settings, publisher, run_id=run_id, keep=keep)
    if not settings.build_db.exists():
        raise PublishError(f"nothing to publish: the build warehouse {settings.build_db} does not exist; run `kam run`")
    with publish_lock(settings):
        recover_locked(settings)
        make_private(settings.builds_dir)
        name = builds.build_name(run_id)
        final = builds.build_path(settings.builds_dir, name)
        partial = builds.partial_path(final)
        try:
            counts = write_build_file(settings.build_db, partial, run_id=run_id, as_of=as_of_date(settings.build_db))
            fault_point("publish:partial_written")
            audit_build_file(partial, counts, run_id=run_id)
            make_private(partial)
            fsync_file(partial)
            os.replace(partial, final)
            fsync_dir(settings.builds_dir)
        except BaseException:
            remove_quietly(partial)
            remove_quietly(partial.with_name(partial.name + ".wal"))
            raise
        fault_point("publish:build_final")
        export = builds.export_path(settings.builds_dir, name)
        _prepare_parquet_root(settings)
        _export(settings, final, export)
        fault_point("publish:exported")
        _serve(settings, final, name=name, run_id=run_id, action="publish")
        pruned = builds.prune(settings.builds_dir, keep=keep, protect={name})
        fault_point("publish:pruned")
    log.info("published run %s (%d tables); pruned %s", run_id, len(counts), pruned or "nothing")
    return PublishResult(serving_path=settings.serving_db, build_path=final, tables=len(counts),
                         parquet_dir=settings.parquet_dir, run_id=run_id, pruned=pruned)


def rollback(settings: Settings, *, to: str | None = None) -> PublishResult:
    """Serve again a kept build that was served before: `to` (a build name or run id) or, by default,
    the one published before the currently served build. Newer builds stay kept (a later rollback can
    go forward). A build that was finalised but never served is never a target."""
    if (publisher := _schema_publisher(settings)) is not None:
        return schema_publish.rollback(settings, publisher, to=to)
    with publish_lock(settings):
        recover_locked(settings)
        served_names = history.served_names(settings.builds_dir)
        kept = [b for b in builds.kept_builds(settings.builds_dir) if b.name in served_names]
        if not kept:
            raise PublishError(f"nothing to roll back to: no kept build under {settings.builds_dir} was ever served")
        target = find_kept(kept, to) if to else previous_kept(kept, builds.served_build(settings.serving_db))
        export = builds.export_path(settings.builds_dir, target.name)
        _prepare_parquet_root(settings)
        if not export.is_dir():
            _export(settings, target.path, export)
        _serve(settings, target.path, name=target.name, run_id=target.run_id, action="rollback")
    log.info("rolled back the serving warehouse to run %s", target.run_id)
    tables = target.tables if target.tables is not None else len(mart_tables(target.path))
    return PublishResult(serving_path=settings.serving_db, build_path=target.path, tables=tables,
                         parquet_dir=settings.parquet_dir,
                         run_id=target.run_id)


def _schema_publisher(settings: Settings) -> SchemaPublisher | None:
    """A server warehouse publishes by swapping schemas (kam_warehouse.serving.schema_publish)."""
    return schema_publisher(settings.build, settings.serving)


def _export(settings: Settings, build_file: Path, export: Path) -> None:
    """Export the build's marts, linking the files the served build's export already holds unchanged."""
    parquet_export.export_marts(build_file, export, share=share,
                                reuse_from=parquet_export.reused_source(settings.parquet_dir))


def _prepare_parquet_root(settings: Settings) -> None:
    parquet_export.prepare_root(settings.parquet_dir)
    share_folder_only(settings.parquet_dir)
    share_folder_only(settings.warehouse_dir)


def _serve(settings: Settings, build_file: Path, *, name: str, run_id: str, action: str) -> None:
    """Swap serving.duckdb, then parquet/CURRENT, then record the build as served: three atomic steps
    back to back; the next start repairs whatever a kill between them left (recovery module)."""
    serving = settings.serving_db
    stale_wal = serving.with_name(serving.name + ".wal")
    if stale_wal.exists():
        log.warning("removing %s: the served file was opened read-write; its WAL is not part of any build",
                    stale_wal)
        remove_quietly(stale_wal)
    try:
        replace_with_copy(build_file, serving, prepare=share)
    except OSError as exc:
        raise PublishError(f"could not replace {serving} with {build_file}: {exc}; the old file is still served") from exc
    builds.same_info(serving, build_file)
    fault_point("serve:serving_swapped")
    parquet_export.point(settings.parquet_dir, name, share=share)
    fault_point("serve:pointer_switched")
    history.record_served(settings.builds_dir, build=name, run_id=run_id, action=action)
    fault_point("serve:recorded")
