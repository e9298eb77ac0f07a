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

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kam_warehouse.core.warehouse.publishing import SchemaPublisher
from kam_warehouse.errors import WarehouseLocked
from kam_warehouse.permissions import share, share_folder_only
from kam_warehouse.serving import builds, history, parquet_export
from kam_warehouse.serving.files import PARTIAL_SUFFIX_RE, remove_quietly, temp_owner
from kam_warehouse.settings import Settings

log = logging.getLogger(__name__)

LOCK_NAME = ".publish.lock"


@dataclass
class RecoveryReport:
    removed_temporaries: list[str] = field(default_factory=list)
    removed_builds: list[str] = field(default_factory=list)
    recorded: str | None = None
    repointed: str | None = None
    skipped: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.removed_temporaries or self.removed_builds or self.recorded or self.repointed)

    def summary(self) -> str:
        if self.skipped:
            return f"recovery skipped: {self.skipped}"
        parts = []
        if self.removed_temporaries:
            parts.append(f"removed {len(self.removed_temporaries)} temporary file(s) of a killed publish")
        if self.removed_builds:
            parts.append(f"removed never-served build(s) {', '.join(self.removed_builds)}")
        if self.recorded:
            parts.append(f"recorded build {self.recorded} as served")
        if self.repointed:
            parts.append(f"re-pointed parquet/CURRENT at {self.repointed}")
        return "; ".join(parts) or "nothing to recover"


@contextmanager
def publish_lock(settings: Settings, *, wait_seconds: float = 60.0) -> Iterator[None]:
    """Hold `builds/.publish.lock`; wait up to `wait_seconds`, then raise WarehouseLocked (retried by Airflow)."""
    settings.builds_dir.mkdir(parents=True, exist_ok=True)
    path = settings.builds_dir / LOCK_NAME
    with open(path, "a+") as fh:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "another process"
                    raise WarehouseLocked(
                        f"busy: a publish or rollback is in progress ({holder}); lock file {path}. "
                        "Try again when it has finished."
                    ) from None
                time.sleep(0.1)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def recover(settings: Settings) -> RecoveryReport:
    """Recover if no publish is running right now (otherwise it will recover itself); never waits.
    On a server warehouse: the same under its publish lock (kam_warehouse.serving.schema_publish)."""
    from kam_warehouse.core.warehouse.publishing import schema_publisher

    if (publisher := schema_publisher(settings.build, settings.serving)) is not None:
        return _recover_schemas(settings, publisher)
    try:
        with publish_lock(settings, wait_seconds=0):
            report = recover_locked(settings)
    except WarehouseLocked as exc:
        return RecoveryReport(skipped=str(exc))
    if report.changed:
        log.warning("recovered the serving warehouse after a killed run: %s", report.summary())
    return report


def _recover_schemas(settings: Settings, publisher: SchemaPublisher) -> RecoveryReport:
    from kam_warehouse.serving import schema_publish

    if not settings.serving.exists():
        return RecoveryReport()
    report = RecoveryReport()
    try:
        with schema_publish.locked(settings, publisher, wait_seconds=0):
            report.removed_temporaries = remove_temporaries(settings)
            report.removed_builds, report.repointed = schema_publish.recover_locked(settings, publisher)
    except WarehouseLocked as exc:
        return RecoveryReport(skipped=str(exc))
    if report.changed:
        log.warning("recovered the serving warehouse after a killed run: %s", report.summary())
    return report


def remove_temporaries(settings: Settings) -> list[str]:
    """Under the publish lock: delete every temporary of a dead writer (module docstring, step 1)."""
    removed = []
    for folder in (settings.warehouse_dir, settings.builds_dir, settings.parquet_dir):
        for p in _temporaries(folder):
            remove_quietly(p)
            removed.append(str(p))
    return removed


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


def _temporaries(folder: Path) -> list[Path]:
    """Under the publish lock every temporary is a dead writer's (a live pid in the name was reused)."""
    if not folder.is_dir() or folder.is_symlink():
        return []
    return [p for p in folder.glob(".*") if temp_owner(p) is not None or PARTIAL_SUFFIX_RE.search(p.name)]


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
