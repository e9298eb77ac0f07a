"""Durable, atomic file operations: what makes a swap all-or-nothing after a crash or a kill.

POSIX `rename` (os.replace) within one directory replaces a directory entry atomically: a process
opening the path sees the old file or the new one, never a mix, and a process that already holds the
old file open keeps reading the old inode until it closes it. fsync of the file and of the directory
makes the result survive a power cut.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path


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


def replace_with_copy(source: Path, target: Path) -> None:
    """Atomically make `target` a byte copy of `source`.

    The copy is written beside `target` (same directory, so the final rename cannot cross a file
    system), fsynced, then renamed over `target`. A copy rather than a hard link keeps the kept build
    pristine even if someone opens the served file read-write.
    """
    tmp = target.with_name(f".{target.name}.{os.getpid()}.incoming")
    try:
        shutil.copyfile(source, tmp)
        fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        remove_quietly(tmp)
        raise
    fsync_dir(target.parent)


def point_symlink(link: Path, target: str) -> None:
    """Atomically (re)point `link` at `target` (a path relative to the link's directory).

    A real directory at `link` (an export from before symlinked exports) is moved aside first.
    """
    if link.exists() and not link.is_symlink():
        os.replace(link, link.with_name(f"{link.name}.pre-symlink"))
    tmp = link.with_name(f".{link.name}.{os.getpid()}.incoming")
    remove_quietly(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, link)
    fsync_dir(link.parent)
