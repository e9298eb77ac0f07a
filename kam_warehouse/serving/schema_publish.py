"""Write-audit-publish on a server warehouse (PostgreSQL): builds are schemas of the serving database.

The same steps, fault points and guarantees as the embedded publish (kam_warehouse.serving.publish),
with the engine's own write-audit-swap behind kam_warehouse.core.warehouse.publishing:

  0. recover - drop the schemas of builds a killed or failed publish staged but never served; re-point
               parquet/CURRENT at the served build if a kill fell between the swap and the pointer;
  1. write   - copy marts.* and ops.* of the build database into marts__<tag> / ops__<tag> of the
               serving database (one transaction; reader roles granted on them);
  2. audit   - every staged table has the build's row count;
  3. export  - every mart to parquet/<tag>/ (read from the staged schema);
  4. serve   - ONE transaction renames the schemas (marts, ops = the new build; the previous ones kept
               as marts__<tag>, ops__<tag>) and appends the served history; then parquet/CURRENT;
  5. prune   - keep the newest `publish.keep_builds` served builds.
Rollback is the same swap back to a kept build that was served before.

Two locks are held: `builds/.publish.lock` (this machine's pipeline steps) and the serving database's
advisory lock (publishers on any machine; freed by the server when the holder dies).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from kam_warehouse.core.files import remove_quietly
from kam_warehouse.core.warehouse import WarehouseError
from kam_warehouse.core.warehouse.publishing import KeptBuild, PublishBusy, SchemaPublisher
from kam_warehouse.errors import WarehouseLocked
from kam_warehouse.faults import fault_point
from kam_warehouse.permissions import share, share_folder_only
from kam_warehouse.serving import builds, parquet_export
from kam_warehouse.serving.asof import as_of
from kam_warehouse.serving.errors import PublishError
from kam_warehouse.serving.kept import PublishResult, find_kept, previous_kept
from kam_warehouse.serving.lock import RecoveryReport, publish_lock, remove_temporaries
from kam_warehouse.settings import Settings

log = logging.getLogger(__name__)

#: the fault points a schema publish reaches, in order (tests/faults kills at each)
SCHEMA_POINTS: tuple[str, ...] = (
    "publish:table_copied#1", "publish:partial_written", "publish:build_final", "parquet:table_written#1",
    "publish:exported", "serve:renamed_uncommitted", "serve:serving_swapped", "serve:pointer_switched", "publish:pruned",
)


@contextmanager
def locked(settings: Settings, publisher: SchemaPublisher, *, wait_seconds: float = 60.0) -> Iterator[None]:
    with publish_lock(settings, wait_seconds=wait_seconds):
        try:
            with publisher.lock(wait_seconds=wait_seconds):
                yield
        except PublishBusy as exc:
            raise WarehouseLocked(str(exc)) from exc


def recover(settings: Settings, publisher: SchemaPublisher) -> RecoveryReport:
    """At the start of every step (kam_warehouse.startup via recovery.recover): recover_locked if no
    publish holds the locks right now; never waits, never creates the serving database."""
    if not settings.serving.exists():
        return RecoveryReport()
    report = RecoveryReport()
    try:
        with locked(settings, publisher, wait_seconds=0):
            report.removed_temporaries = remove_temporaries(settings)
            report.removed_builds, report.repointed = recover_locked(settings, publisher)
    except WarehouseLocked as exc:
        return RecoveryReport(skipped=str(exc))
    if report.changed:
        log.warning("recovered the serving warehouse after a killed run: %s", report.summary())
    return report


def recover_locked(settings: Settings, publisher: SchemaPublisher) -> tuple[list[str], str | None]:
    """Drop never-served builds, re-point parquet/CURRENT at the served build, drop orphan exports;
    return (removed builds, the build CURRENT was re-pointed at or None)."""
    removed = publisher.recover()
    served = publisher.served()
    repointed = None
    root = settings.parquet_dir
    if served is not None and not (parquet_export.read_pointer(root) == served.tag and (root / served.tag).is_dir()):
        _prepare_parquet_root(settings)
        if not (root / served.tag).is_dir():
            _export(settings, publisher, served.tag)
        parquet_export.point(root, served.tag, share=share)
        repointed = served.tag
    kept = {b.tag for b in publisher.kept()}
    for orphan in builds.orphan_exports(settings.builds_dir, kept):
        remove_quietly(orphan)
    return removed, repointed


def publish(settings: Settings, publisher: SchemaPublisher, *, run_id: str, keep: int) -> PublishResult:
    if not settings.build.exists():
        raise PublishError(f"nothing to publish: the build warehouse {settings.build.describe()} does not exist; "
                           "run `kam run`")
    name = builds.build_name(run_id)
    with locked(settings, publisher):
        remove_temporaries(settings)
        recover_locked(settings, publisher)
        try:
            staged = publisher.stage(name, run_id=run_id, as_of=as_of(settings.build),
                                     on_table=lambda _table: fault_point("publish:table_copied"))
            fault_point("publish:partial_written")
            publisher.audit(staged)
        except WarehouseError as exc:
            publisher.recover()
            raise PublishError(f"{exc}. The served warehouse {publisher.describe()} is unchanged; fix the model "
                               "and publish again.") from exc
        fault_point("publish:build_final")
        _prepare_parquet_root(settings)
        _export(settings, publisher, staged.tag)
        fault_point("publish:exported")
        _serve(settings, publisher, staged.tag, action="publish")
        pruned = publisher.prune(keep=keep)
        for gone in set(pruned):
            log.info("pruned build %s", gone)
        for orphan in builds.orphan_exports(settings.builds_dir, {b.tag for b in publisher.kept()}):
            remove_quietly(orphan)
        fault_point("publish:pruned")
    log.info("published run %s (%d tables) to %s; pruned %s", run_id, len(staged.counts), publisher.describe(),
             pruned or "nothing")
    return PublishResult(serving_path=publisher.describe(), build_path=f"{publisher.describe()}: "
                         f"marts__{staged.tag}, ops__{staged.tag} while kept", tables=len(staged.counts),
                         parquet_dir=settings.parquet_dir, run_id=run_id, pruned=pruned)


def rollback(settings: Settings, publisher: SchemaPublisher, *, to: str | None) -> PublishResult:
    with locked(settings, publisher):
        remove_temporaries(settings)
        recover_locked(settings, publisher)
        served_names = {r.build for r in publisher.history()}
        kept = [b for b in publisher.kept() if b.build in served_names]
        if not kept:
            raise PublishError(f"nothing to roll back to: no kept build in {publisher.describe()} was ever served")
        target: KeptBuild = find_kept(kept, to) if to else previous_kept(kept, publisher.served())
        _prepare_parquet_root(settings)
        if not (settings.parquet_dir / target.tag).is_dir():
            _export(settings, publisher, target.tag)
        _serve(settings, publisher, target.tag, action="rollback")
    log.info("rolled back %s to run %s", publisher.describe(), target.run_id)
    return PublishResult(serving_path=publisher.describe(), build_path=publisher.describe(),
                         tables=target.tables or 0, parquet_dir=settings.parquet_dir, run_id=target.run_id)


def _export(settings: Settings, publisher: SchemaPublisher, tag: str) -> None:
    parquet_export.export_tables(publisher.mart_tables(tag), lambda table: publisher.mart_arrow(tag, table),
                                 builds.export_path(settings.builds_dir, tag), share=share)


def _serve(settings: Settings, publisher: SchemaPublisher, tag: str, *, action: str) -> None:
    try:
        publisher.swap(tag, action=action, before_commit=lambda: fault_point("serve:renamed_uncommitted"))
    except WarehouseError as exc:
        raise PublishError(f"{exc}; the previously served build is still served") from exc
    fault_point("serve:serving_swapped")
    parquet_export.point(settings.parquet_dir, tag, share=share)
    fault_point("serve:pointer_switched")


def _prepare_parquet_root(settings: Settings) -> None:
    parquet_export.prepare_root(settings.parquet_dir)
    share_folder_only(settings.parquet_dir)
    share_folder_only(settings.warehouse_dir)
