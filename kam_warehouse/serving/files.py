"""Publish's whole-file swap: a served file replaced by a byte copy, atomically (the durable primitives it
is built from are kam_warehouse.core.files)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from kam_warehouse.core.files import fsync_dir, fsync_file, remove_quietly, temp_path


def replace_with_copy(source: Path, target: Path, *, prepare: Callable[[Path], None] | None = None) -> None:
    """Atomically make `target` a byte copy of `source`.

    The copy is written beside `target` (same directory, so the final rename cannot cross a file
    system), given its permissions by `prepare`, fsynced, then renamed over `target`. A copy rather
    than a hard link keeps the kept build pristine even if someone opens the served file read-write.
    """
    from kam_warehouse.faults import fault_point

    tmp = temp_path(target)
    try:
        shutil.copyfile(source, tmp)
        if prepare is not None:
            prepare(tmp)
        fsync_file(tmp)
        fault_point("copy:incoming_written")
        os.replace(tmp, target)
    except BaseException:
        remove_quietly(tmp)
        raise
    fsync_dir(target.parent)
