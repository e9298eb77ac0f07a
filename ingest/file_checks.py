"""File-level checks of a landing file: each failure raises `FileRejected` with its defect class
(`empty_file`, `wrong_encoding`, `missing_required_column`, `duplicate_column`)."""

from __future__ import annotations

from pathlib import Path

from ingest.contract import Entity
from ingest.errors import FileRejected
from ingest.fileinfo import FileInfo
from ingest.prepare import read_header, readable_csv
from ingest.stage import INVALID_ENCODING, MalformedRecord


def reader_checks_encoding(e: Entity, path: Path) -> bool:
    """True for a UTF-8-only CSV: DuckDB's reader validates its UTF-8, Python need not decode it."""
    return e.encodings == ("utf-8",) and path.suffix.lower() == ".csv"


def open_checked(rel: str, e: Entity, path: Path, info: FileInfo | None, tmpdir: Path) -> tuple[Path, list[str]]:
    """The readable CSV and its header, or FileRejected for empty / wrongly encoded / incomplete files.

    `info` is None for a file whose encoding the reader checks (`reader_checks_encoding`) while it is
    still being hashed: such a file is read in place; invalid UTF-8 after the header is rejected by
    `reject_invalid_utf8` once scanned.
    """
    size = info.size if info else path.stat().st_size
    if size == 0 or (info and info.blank):
        raise FileRejected(rel, f"empty_file: {path.name} is empty (expected at least a header row)")
    if info and info.encoding is None:
        raise FileRejected(rel, f"wrong_encoding: {path.name} {_not_decoding(e)}")
    csv_path = readable_csv(path, info, tmpdir) if info else path
    try:
        header = read_header(csv_path)
    except UnicodeDecodeError as exc:
        raise FileRejected(rel, f"wrong_encoding: {path.name} {_not_decoding(e)}: header {exc.reason}") from exc
    if not header:
        raise FileRejected(rel, f"empty_file: {path.name} has no header row")
    missing = [c for c in e.column_names if c not in header]
    if missing:
        raise FileRejected(
            rel,
            f"missing_required_column: {path.name} lacks {', '.join(missing)} (header: {', '.join(header)})",
        )
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise FileRejected(rel, f"duplicate_column: {path.name} repeats column(s) {', '.join(repeated)}")
    return csv_path, header


def reject_invalid_utf8(rel: str, path: Path, e: Entity, malformed: list[MalformedRecord]) -> None:
    """FileRejected when DuckDB's reader found bytes that are not UTF-8 (it validates every value)."""
    bad = next((m for m in malformed if INVALID_ENCODING in m.error_type), None)
    if bad is not None:
        raise FileRejected(rel, f"wrong_encoding: {path.name} {_not_decoding(e)}: invalid UTF-8 in line {bad.record}")


def _not_decoding(e: Entity) -> str:
    return f"does not decode as any allowed encoding ({', '.join(e.encodings)})"
