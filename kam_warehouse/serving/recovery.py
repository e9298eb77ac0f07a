"""What the next run does after a kill: clean a dead publish's leftovers, repair serving's bookkeeping.

Publish and rollback hold `builds/.publish.lock` (an flock: the kernel drops it when the holder dies,
kill -9 included) for their whole duration. Holding it, `recover_locked` knows no swap is in progress,
so whatever is half-done belongs to a dead process:

1. temporaries: `.serving.duckdb.<pid>.incoming`, `builds/.<build>.duckdb.<pid>.partial`,
   `parquet/.<build>.<pid>.partial`, `parquet/.CURRENT.<pid>.incoming` are deleted;
2. the served history gets a `recovered` record when serving.duckdb holds a build whose record a kill
   prevented (the swap happened, the append did not); a warehouse from before the history is seeded;
3. a build finalised under builds/ but never served (killed between finalising and the swap) is
   deleted with its export, so no rollback can ever serve it;
4. `parquet/CURRENT` is re-pointed at the build serving.duckdb holds if a kill fell between the two
   switches (re-exporting it when its folder is missing);
5. export folders whose build is gone are deleted.

`recover(settings)` runs this at the start of every pipeline step (kam_warehouse.startup) and inside
every publish and rollback, so "the next start" always finds a consistent warehouse.
"""

from __future__ import annotations

import logging

from kam_warehouse.core.files import remove_quietly
from kam_warehouse.core.warehouse.publisher import schema_publisher
from kam_warehouse.errors import WarehouseLocked
from kam_warehouse.permissions import share, share_folder_only
from kam_warehouse.serving import builds, history, parquet_export, schema_publish
from kam_warehouse.serving.lock import LOCK_NAME, RecoveryReport, publish_lock, remove_temporaries
from kam_warehouse.settings import Settings

__all__ = ["LOCK_NAME", "RecoveryReport", "publish_lock", "recover", "recover_locked", "remove_temporaries"]

log = logging.getLogger(__name__)


def recover(settings: Settings) -> RecoveryReport:
    """Recover if no publish is running right now (otherwise it will recover itself); never waits.
    On a server warehouse: the same under its publish lock (kam_warehouse.serving.schema_publish)."""
    if (publisher := schema_publisher(settings.build, settings.serving)) is not None:
        return schema_publish.recover(settings, publisher)
    try:
        with publish_lock(settings, wait_seconds=0):
            report = recover_locked(settings)
    except WarehouseLocked as exc:
        return RecoveryReport(skipped=str(exc))
    if report.changed:
        log.warning("recovered the serving warehouse after a killed run: %s", report.summary())
    return report


def recover_locked(settings: Settings) -> RecoveryReport:
    """The recovery steps of the module docstring; the caller holds publish_lock."""
    report = RecoveryReport(removed_temporaries=remove_temporaries(settings))
    served = builds.served_build(settings.serving_db)
    kept = builds.kept_builds(settings.builds_dir)
    if served is not None:
        _record_served(settings, served, kept, report)
    served_names = history.served_names(settings.builds_dir)
    for b in kept:
        if b.name not in served_names and (served is None or b.name != served.name):
            log.warning("removing build %s: its run finalised it but was killed before serving it", b.name)
            builds.remove_build(settings.builds_dir, b.name)
            report.removed_builds.append(b.name)
    if served is not None:
        _repoint(settings, served, report)
    remaining = {b.name for b in kept} - set(report.removed_builds)
    for orphan in builds.orphan_exports(settings.builds_dir, remaining | ({served.name} if served else set())):
        remove_quietly(orphan)
    return report


def _record_served(settings: Settings, served: builds.BuildInfo, kept: list[builds.BuildInfo],
                   report: RecoveryReport) -> None:
    records = history.read_history(settings.builds_dir)
    if not records:  # a warehouse published before the served history existed
        for b in kept:
            if b.published_at <= served.published_at and b.name != served.name:
                history.record_served(settings.builds_dir, build=b.name, run_id=b.run_id, action="seeded")
        history.record_served(settings.builds_dir, build=served.name, run_id=served.run_id, action="seeded")
        return
    if records[-1].build != served.name:
        history.record_served(settings.builds_dir, build=served.name, run_id=served.run_id, action="recovered")
        report.recorded = served.name


def _repoint(settings: Settings, served: builds.BuildInfo, report: RecoveryReport) -> None:
    root = settings.parquet_dir
    if parquet_export.read_pointer(root) == served.name and (root / served.name).is_dir():
        return
    parquet_export.prepare_root(root)
    share_folder_only(root)
    export = root / served.name
    if not export.is_dir():
        source = builds.build_path(settings.builds_dir, served.name)
        parquet_export.export_marts(source if source.exists() else settings.serving_db, export, share=share)
    parquet_export.point(root, served.name, share=share)
    report.repointed = served.name
