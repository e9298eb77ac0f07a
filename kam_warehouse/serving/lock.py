"""`builds/.publish.lock`: one publish or rollback at a time on this machine; the temporaries a dead
publisher leaves (what recovery deletes first, on every engine); what a recovery reports."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kam_warehouse.core.files import PARTIAL_SUFFIX_RE, remove_quietly, temp_owner
from kam_warehouse.errors import WarehouseLocked
from kam_warehouse.settings import Settings

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


def remove_temporaries(settings: Settings) -> list[str]:
    """Under the publish lock: delete every temporary of a dead writer (module docstring, step 1)."""
    removed = []
    for folder in (settings.warehouse_dir, settings.builds_dir, settings.parquet_dir):
        for p in _temporaries(folder):
            remove_quietly(p)
            removed.append(str(p))
    return removed


def _temporaries(folder: Path) -> list[Path]:
    """Under the publish lock every temporary is a dead writer's (a live pid in the name was reused)."""
    if not folder.is_dir() or folder.is_symlink():
        return []
    return [p for p in folder.glob(".*") if temp_owner(p) is not None or PARTIAL_SUFFIX_RE.search(p.name)]
