"""The build warehouse has exactly one writer: `kam run` holds an exclusive lock file while it writes.

(Under Airflow the one-slot `kam_warehouse` pool serialises writers; the lock is a second line of defence
that also protects against a CLI run overlapping a scheduled one.)
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kam_warehouse.errors import WarehouseLocked


@contextmanager
def warehouse_lock(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive, non-blocking lock on `lock_file`; raise WarehouseLocked if another process has it."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            raise WarehouseLocked(
                f"the build warehouse is being written by another process ({holder}); lock file {lock_file}. "
                "Wait for that run to finish; if no such process exists, the lock is released automatically."
            ) from exc
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
