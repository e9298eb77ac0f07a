"""File-level checks of a landing file: each failure raises `FileRejected` with its defect class
(`empty_file`, `wrong_encoding`, `missing_required_column`, `header_not_on_first_row`,
`malformed_header`, `empty_column_name`, `duplicate_column`, and from `ingest.prepare`
`not_a_workbook` / `unreadable_workbook`)."""

from __future__ import annotations

from pathlib import Path

from ingest.contract import Entity
from ingest.errors import FileRejected
from ingest.fileinfo import FileInfo
from ingest.prepare import first_records, readable_csv
from ingest.records import Record
from ingest.resilient import parse_fields
from ingest.stage import INVALID_ENCODING, MalformedRecord


def reader_checks_encoding(e: Entity, path: Path) -> bool:
    """True for a UTF-8-only CSV: DuckDB's reader validates its UTF-8, Python need not decode it."""
    return e.encodings == ("utf-8",) and path.suffix.lower() == ".csv"


#: records looked at for a header that is not on the first line
HEADER_SEARCH = 10


def open_checked(rel: str, e: Entity, path: Path, info: FileInfo | None, tmpdir: Path) -> tuple[Path, list[str]]:
    """The readable CSV and its header, or FileRejected for empty / wrongly encoded / unreadable files and
    bad headers.

    `info` is None for a file whose encoding the reader checks (`reader_checks_encoding`) while it is
    still being hashed: such a file is read in place; invalid UTF-8 after the header is rejected by
    `reject_invalid_utf8` once scanned. Messages name the file, line and rule, never the content.
    """
    size = info.size if info else path.stat().st_size
    if size == 0 or (info and info.blank):
        raise FileRejected(rel, f"empty_file: {path.name} is empty (expected at least a header row)")
    if info and info.encoding is None:
        raise FileRejected(rel, f"wrong_encoding: {path.name} {_not_decoding(e)}")
    csv_path = readable_csv(rel, path, info, tmpdir) if info else path
    try:
        head = first_records(csv_path, HEADER_SEARCH)
    except UnicodeDecodeError as exc:
        raise FileRejected(rel, f"wrong_encoding: {path.name} {_not_decoding(e)} ({exc.reason})") from exc
    if not head:
        raise FileRejected(rel, f"empty_file: {path.name} has no header row")
    return csv_path, check_header(rel, e, path.name, head)


def check_header(rel: str, e: Entity, name: str, head: list[Record]) -> list[str]:
    """The column names of the first record, which must be on line 1 and name every contract column
    once; FileRejected naming the rule otherwise (column names quoted only when they are the contract's)."""
    fields = parse_fields(head[0].text)
    if isinstance(fields, str):
        raise FileRejected(rel, f"malformed_header: line 1 of {name} is not a CSV header ({fields})")
    header = [f.strip() for f in fields]
    missing = [c for c in e.column_names if c not in header]
    if missing or head[0].line != 1:
        found = _header_line(e, head)
        where = f": the header is on line {found}, it must be line 1" if found and found != 1 else ""
        if head[0].line != 1 and not where:
            where = ": line 1 is blank, the header must be line 1"
        if where:
            raise FileRejected(rel, f"header_not_on_first_row: {name}{where}")
        raise FileRejected(rel, f"missing_required_column: {name} line 1 lacks {', '.join(missing)}")
    unnamed = [str(i) for i, h in enumerate(header, start=1) if not h]
    if unnamed:
        raise FileRejected(rel, f"empty_column_name: {name} header column(s) {', '.join(unnamed)} have no name")
    seen: dict[str, int] = {}
    for i, h in enumerate(header, start=1):
        if h.lower() in seen:
            shown = h if h in e.column_names else f"column {seen[h.lower()]}"
            raise FileRejected(rel, f"duplicate_column: {name} header column {i} repeats {shown} (names are case-insensitive)")
        seen[h.lower()] = i
    return header


def _header_line(e: Entity, head: list[Record]) -> int | None:
    """The physical line of the first of the records that names every contract column, if any."""
    wanted = set(e.column_names)
    for rec in head:
        fields = parse_fields(rec.text)
        if not isinstance(fields, str) and wanted <= {f.strip() for f in fields}:
            return rec.line
    return None


def reject_invalid_utf8(rel: str, path: Path, e: Entity, malformed: list[MalformedRecord]) -> None:
    """FileRejected when DuckDB's reader found bytes that are not UTF-8 (it validates every value)."""
    bad = next((m for m in malformed if INVALID_ENCODING in m.error_type), None)
    if bad is not None:
        raise FileRejected(rel, f"wrong_encoding: {path.name} {_not_decoding(e)}: invalid UTF-8 in line {bad.record}")


def _not_decoding(e: Entity) -> str:
    return f"does not decode as any allowed encoding ({', '.join(e.encodings)})"
