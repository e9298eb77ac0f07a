"""Least privilege on the warehouse folder: private state is the owner's only, serving is group-readable.

| what | mode | who |
|---|---|---|
| build.duckdb (+ .wal), builds/, dbt/ (logs, compiled SQL), data_docs/ | 0600 files, 0700 folders | the pipeline's user |
| serving.duckdb, parquet/ (exports, CURRENT) | 0640 files, 0750 folders | + the serving group |
| the warehouse folder itself | 0750 | + the serving group (to reach serving.duckdb and parquet/) |

The serving group is `KAM_SERVING_GROUP` (a group name or numeric gid), default the pipeline user's
primary group. A BI host's service account is made a member of that group (docs/bi.md). Pipeline
processes run with umask 077, so whatever DuckDB, dbt or GX create is private from the start; the
serving files are opened up explicitly, before they are renamed into place.

On a PostgreSQL warehouse (KAM_WAREHOUSE_URL) readers get database roles instead of file modes: a
read-only reader role on the served schemas (`kam warehouse grant-reader ROLE`,
kam_warehouse.serving.readers; scripts/postgres-reader-role.sql); the local state above keeps these modes.
"""

from __future__ import annotations

import grp
import os
from pathlib import Path

from kam_warehouse.errors import ConfigError

PRIVATE_UMASK = 0o077
PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700
SHARED_FILE, SHARED_DIR = 0o640, 0o750
GROUP_ENV = "KAM_SERVING_GROUP"


def private_umask() -> None:
    """Every file this process creates from now on is 0600 / every folder 0700."""
    os.umask(PRIVATE_UMASK)


def serving_gid(environ: dict[str, str] | None = None) -> int:
    """The gid of `KAM_SERVING_GROUP` (name or number), default this process's group."""
    value = (environ if environ is not None else os.environ).get(GROUP_ENV, "").strip()
    if not value:
        return os.getgid()
    if value.isdigit():
        return int(value)
    try:
        return grp.getgrnam(value).gr_gid
    except KeyError as exc:
        raise ConfigError(f"{GROUP_ENV}={value!r} is not a group on this machine; create it (groupadd) "
                          "or set a numeric gid") from exc


def share(path: Path) -> None:
    """Make `path` (a file, or a folder tree) readable by the serving group, not by others."""
    gid = serving_gid()
    targets = [path, *sorted(path.rglob("*"))] if path.is_dir() and not path.is_symlink() else [path]
    for p in targets:
        if p.is_symlink():
            continue
        _chgrp(p, gid)
        os.chmod(p, SHARED_DIR if p.is_dir() else SHARED_FILE)


def make_private(path: Path) -> None:
    """0600 for a file; 0700 for a folder and everything under it (existing state from older runs)."""
    if not path.exists() or path.is_symlink():
        return
    if path.is_dir():
        for p in [path, *path.rglob("*")]:
            if not p.is_symlink():
                os.chmod(p, PRIVATE_DIR if p.is_dir() else PRIVATE_FILE)
    else:
        os.chmod(path, PRIVATE_FILE)


def share_folder_only(path: Path) -> None:
    """Let the serving group traverse and list `path` (0750), without touching what is inside."""
    path.mkdir(parents=True, exist_ok=True)
    _chgrp(path, serving_gid())
    os.chmod(path, SHARED_DIR)


def _chgrp(path: Path, gid: int) -> None:
    st = os.lstat(path)
    if st.st_gid == gid:
        return
    try:
        os.chown(path, -1, gid, follow_symlinks=False)
    except PermissionError as exc:
        raise ConfigError(
            f"cannot give {path} to group {gid} ({GROUP_ENV}): the pipeline's user must be a member of the "
            "serving group (usermod -aG <group> <user>) or the setting must name one of its groups"
        ) from exc
