"""Find landing files whose bytes changed after they were loaded: reported, never loaded twice.

Size and mtime are compared first; only a file whose size or mtime moved is hashed again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingest.fileinfo import file_stat, inspect_file
from ingest.landing import OUTSIDE, inside_root
from ingest.manifest import Batch, change_already_recorded, loaded_files, record_file
from ingest.report import FileResult

log = logging.getLogger(__name__)


def detect_changes(
    con: duckdb.DuckDBPyConnection, landing_dir: Path, source: str, run_id: str, *, recorded: set[str] | None = None
) -> list[FileResult]:
    """Loaded files of `source` whose content differs now; each is recorded once in the manifest as
    status 'changed_after_load' (with the new size/sha256) and returned on every run while it differs.
    The batch id of every manifest row written is added to `recorded`."""
    changed = []
    for f in loaded_files(con, source):
        path = Path(landing_dir) / f.file_path
        if not path.is_file():
            continue  # a removed file is not re-loaded and not our business to restore
        if not inside_root(landing_dir, path):  # never read what now lies outside the landing zone
            message = f"{OUTSIDE}: {f.file_path} now resolves outside the landing root; not read"
            changed.append(FileResult(path=f.file_path, source=source, entity=f.entity, rows_read=0,
                                      rows_loaded=0, rows_quarantined=0, status="changed_after_load",
                                      message=message))
            log.warning("%s", message)
            continue
        size, mtime_ns = file_stat(path)
        if size == f.size and mtime_ns == f.mtime_ns:
            continue
        info = inspect_file(path, ())
        if info.sha256 == f.sha256:
            continue
        message = (
            f"changed_after_load: bytes differ from the version loaded (sha256 {f.sha256[:12]} -> "
            f"{info.sha256[:12]}, size {f.size} -> {info.size}); not reloaded. A correction must come "
            "as a new record in a later day folder"
        )
        result = FileResult(
            path=f.file_path, source=source, entity=f.entity, rows_read=0, rows_loaded=0,
            rows_quarantined=0, status="changed_after_load", message=message,
        )
        if not change_already_recorded(con, f.file_path, info.sha256):
            batch = Batch(Path(landing_dir), source, f.extract_day, run_id, datetime.now(UTC).replace(tzinfo=None))
            record_file(con, batch, result, info)
            if recorded is not None:
                recorded.add(batch.batch_id)
        log.warning("%s: %s", f.file_path, message)
        changed.append(result)
    return changed
