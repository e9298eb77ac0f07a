"""raw.load_manifest, raw.load_batches and file-level raw.quarantine rows: what was loaded, when, how."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from ingest.fileinfo import FileInfo
from ingest.report import FileResult


@dataclass(frozen=True)
class Batch:
    """One (source, extract day) load attempt of one run."""

    landing_dir: Path
    source: str
    day: date
    run_id: str
    loaded_at: datetime
    #: the target's text cannot hold a NUL character (PostgreSQL): a value with one is quarantined
    #: (`nul_character`) and a NUL in quarantined text or a header name is written as U+FFFD
    nul_free: bool = False

    @property
    def batch_id(self) -> str:
        return f"{self.source}:{self.day.isoformat()}:{self.run_id}"

    def relative(self, path: Path) -> str:
        """Path relative to the landing root with '/' separators (the manifest's file_path)."""
        return Path(path).relative_to(self.landing_dir).as_posix()


@dataclass(frozen=True)
class LoadedFile:
    file_path: str
    source: str
    entity: str
    extract_day: date
    size: int
    mtime_ns: int | None
    sha256: str


def record_file(con: duckdb.DuckDBPyConnection, batch: Batch, result: FileResult, info: FileInfo) -> None:
    con.execute(
        """INSERT INTO raw.load_manifest (file_path, source, entity, extract_day, size_bytes, sha256, mtime_ns,
               encoding, rows_read, rows_loaded, rows_quarantined, extra_columns, batch_id, status, message,
               loaded_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            result.path, result.source, result.entity, batch.day, info.size, info.sha256, info.mtime_ns,
            result.encoding, result.rows_read, result.rows_loaded, result.rows_quarantined,
            without_nul(",".join(result.extra_columns), batch.nul_free) or None, batch.batch_id, result.status,
            result.message,
            batch.loaded_at,
        ],
    )


def without_nul(text: str, nul_free: bool) -> str:
    """`text` as a target whose text cannot hold NUL stores it: each NUL as U+FFFD (else unchanged)."""
    return text.replace("\x00", "\ufffd") if nul_free else text


def record_file_quarantine(con: duckdb.DuckDBPyConnection, batch: Batch, result: FileResult) -> None:
    """A whole-file quarantine row (line_number NULL) for a rejected file, so ops.quarantine shows it."""
    con.execute(
        """INSERT INTO raw.quarantine (file_path, source, entity, extract_day, line_number, column_name, reason,
               raw_line, batch_id, quarantined_at) VALUES (?, ?, ?, ?, NULL, NULL, ?, NULL, ?, ?)""",
        [result.path, result.source, result.entity, batch.day, result.message, batch.batch_id, batch.loaded_at],
    )


def record_batch(con: duckdb.DuckDBPyConnection, batch: Batch, files: int) -> None:
    con.execute(
        "INSERT INTO raw.load_batches VALUES (?, ?, ?, ?, ?, ?)",
        [batch.batch_id, batch.source, batch.day, batch.run_id, files, batch.loaded_at],
    )


def loaded_files(con: duckdb.DuckDBPyConnection, source: str) -> list[LoadedFile]:
    """Files of `source` applied so far (latest loaded version per path)."""
    rows = con.execute(
        """SELECT file_path, source, entity, extract_day, size_bytes, mtime_ns, sha256
           FROM (SELECT *, row_number() OVER (PARTITION BY file_path ORDER BY loaded_at DESC) AS _latest
                 FROM raw.load_manifest WHERE source = ? AND status = 'loaded') m
           WHERE _latest = 1
           ORDER BY extract_day, file_path""",
        [source],
    ).fetchall()
    return [LoadedFile(*r) for r in rows]


def change_already_recorded(con: duckdb.DuckDBPyConnection, file_path: str, sha256: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM raw.load_manifest WHERE file_path = ? AND sha256 = ? "
        "AND status = 'changed_after_load'",
        [file_path, sha256],
    ).fetchone()
    return bool(row and row[0])
