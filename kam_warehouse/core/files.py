"""Durable, atomic file operations: what makes a swap or a pointer all-or-nothing after a crash or a kill.

POSIX `rename` (os.replace) within one directory replaces a directory entry atomically: a process
opening the path sees the old file or the new one, never a mix, and a process that already holds the
old file open keeps reading the old inode until it closes it. fsync of the file and of the directory
makes the result survive a power cut.

Every temporary name carries the writer's pid (`.<name>.<pid>.incoming`, `.<name>.<pid>.partial`), so
the next run can tell a dead writer's leftovers from a live one's (kam_warehouse.serving.recovery).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

INCOMING = "incoming"
PARTIAL = "partial"
#: pid-less partials written before temporaries carried a pid
PARTIAL_SUFFIX_RE = re.compile(r"^\..+\.partial$")
_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.(?P<kind>incoming|partial)$")


def temp_path(target: Path, kind: str = INCOMING) -> Path:
    """The hidden temporary name of `target` for this process: `.<target>.<pid>.<kind>`."""
    return target.with_name(f".{target.name}.{os.getpid()}.{kind}")


def temp_owner(path: Path) -> int | None:
    """The pid in a temporary name made by temp_path, or None when `path` is not one."""
    m = _TEMP_RE.match(path.name)
    return int(m["pid"]) if m else None


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """fsync every file and directory under `root` (a freshly written export)."""
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            fsync_file(Path(dirpath) / name)
        fsync_dir(Path(dirpath))


def remove_quietly(path: Path) -> None:
    """Remove a file, symlink or directory tree if it exists (clean-up after a failed write)."""
    if path.is_symlink() or path.is_file():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def write_text_atomic(target: Path, text: str, *, prepare: Callable[[Path], None] | None = None) -> None:
    """Atomically replace `target` with a file holding `text` (a pointer readers resolve)."""
    tmp = temp_path(target)
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if prepare is not None:
            prepare(tmp)
        os.replace(tmp, target)
    except BaseException:
        remove_quietly(tmp)
        raise
    fsync_dir(target.parent)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this machine (a zombie counts as dead)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"
