"""Load one landing file of a day into its raw table, inside the day's open transaction.

File-level problems raise `FileRejected` (the caller rolls the day back); row-level problems go to
raw.quarantine. Always: rows_read = rows_loaded + rows_quarantined.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.contract import LINEAGE_COLUMNS, Entity
from ingest.errors import FileRejected, IngestError
from ingest.fileinfo import FileInfo, inspect_file
from ingest.manifest import Batch, record_file
from ingest.prepare import fetch_lines, read_header, readable_csv
from ingest.report import FileResult
from ingest.stage import MalformedRecord, Staged, ident, stage_csv
from ingest.validate import checked_sql, duplicates_sql, has_duplicates_sql

log = logging.getLogger(__name__)

STAGED, DUPLICATES, QUARANTINED = "_ingest_staged", "_ingest_dups", "_ingest_q"


def load_file(con: duckdb.DuckDBPyConnection, batch: Batch, e: Entity, path: Path, tmpdir: Path) -> FileResult:
    rel = batch.relative(path)
    info = inspect_file(path, e.encodings)
    csv_path, header = _open_checked(rel, e, path, info, tmpdir)
    extra = tuple(h for h in header if h not in e.column_names)
    staged = stage_csv(con, csv_path, header, info, STAGED)
    checked = f"({checked_sql(e, STAGED, staged.line_expr)})"
    if con.execute(has_duplicates_sql(e, STAGED)).fetchone():
        con.execute(duplicates_sql(e, STAGED, staged.line_expr, DUPLICATES))
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {DUPLICATES} (_line BIGINT, column_name VARCHAR, reason VARCHAR)")
    loaded = _insert_valid(con, batch, e, rel, checked)
    # checks are evaluated a second time only for a file that had rejected rows
    quarantined = 0 if loaded == staged.records else _quarantine(
        con, batch, e, rel, csv_path, checked, staged.malformed)
    _drop(con, STAGED, DUPLICATES, QUARANTINED)
    result = FileResult(
        path=rel, source=e.source, entity=e.name, rows_read=staged.records, rows_loaded=loaded,
        rows_quarantined=quarantined, status="loaded", extra_columns=extra, encoding=info.encoding,
    )
    _check_accounting(result, staged)
    record_file(con, batch, result, info)
    return result


def _open_checked(rel: str, e: Entity, path: Path, info: FileInfo, tmpdir: Path) -> tuple[Path, list[str]]:
    """The readable CSV and its header, or FileRejected for empty / wrongly encoded / incomplete files."""
    if info.size == 0 or info.blank:
        raise FileRejected(rel, f"empty_file: {path.name} is empty (expected at least a header row)")
    if info.encoding is None:
        raise FileRejected(
            rel, f"wrong_encoding: {path.name} does not decode as any allowed encoding ({', '.join(e.encodings)})"
        )
    csv_path = readable_csv(path, info, tmpdir)
    header = read_header(csv_path)
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


def _insert_valid(con: duckdb.DuckDBPyConnection, batch: Batch, e: Entity, rel: str, checked: str) -> int:
    columns = ", ".join(ident(c) for c in e.column_names)
    lineage = ", ".join(name for name, _ in LINEAGE_COLUMNS)
    row = con.execute(
        f"""INSERT INTO {e.raw_table} ({columns}, {lineage})
            SELECT {columns}, ?, c._line, ?, ?, ? FROM {checked} c
            WHERE c._err IS NULL AND c._line NOT IN (SELECT _line FROM {DUPLICATES})""",
        [rel, batch.batch_id, batch.day, batch.loaded_at],
    ).fetchone()
    return int(row[0]) if row else 0


def _quarantine(
    con: duckdb.DuckDBPyConnection,
    batch: Batch,
    e: Entity,
    rel: str,
    csv_path: Path,
    checked: str,
    malformed: list[MalformedRecord],
) -> int:
    """Write one raw.quarantine row per rejected record (with its original line text); return the count."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {QUARANTINED} AS
            WITH bad AS (SELECT _line, _err.col AS column_name, _err.reason AS reason FROM {checked} c
                         WHERE _err IS NOT NULL)
            SELECT * FROM bad
            UNION ALL
            SELECT d._line, d.column_name, d.reason FROM {DUPLICATES} d WHERE d._line NOT IN (SELECT _line FROM bad)"""
    )
    lines = [int(r[0]) for r in con.execute(f"SELECT _line FROM {QUARANTINED}").fetchall()]
    if not lines and not malformed:
        return 0
    texts = fetch_lines(csv_path, set(lines))
    raw = pa.table({"line": pa.array(list(texts), pa.int64()), "text": pa.array(list(texts.values()), pa.string())})
    malformed_rows = pa.table(
        {
            "line": pa.array([m.record for m in malformed], pa.int64()),
            "reason": pa.array([_malformed_reason(m) for m in malformed], pa.string()),
            "text": pa.array([m.text for m in malformed], pa.string()),
        }
    )
    con.register("_ingest_raw_lines", raw)
    con.register("_ingest_malformed", malformed_rows)
    try:
        params = [rel, e.source, e.name, batch.day, batch.batch_id, batch.loaded_at]
        con.execute(
            f"""INSERT INTO raw.quarantine
                SELECT ?, ?, ?, ?, q._line, q.column_name, q.reason, l.text, ?, ?
                FROM {QUARANTINED} q LEFT JOIN _ingest_raw_lines l ON l.line = q._line""",
            params,
        )
        con.execute(
            "INSERT INTO raw.quarantine SELECT ?, ?, ?, ?, line, NULL, reason, text, ?, ? FROM _ingest_malformed",
            params,
        )
    finally:
        con.unregister("_ingest_raw_lines")
        con.unregister("_ingest_malformed")
    return len(lines) + len(malformed)


def _malformed_reason(m: MalformedRecord) -> str:
    cls = "truncated_last_line" if m.is_last else "malformed_row"
    return f"{cls}: record does not parse as a complete CSV row ({m.error})"


def _check_accounting(result: FileResult, staged: Staged) -> None:
    if result.rows_read != result.rows_loaded + result.rows_quarantined:
        raise IngestError(
            f"{result.path}: rows_read {result.rows_read} != loaded {result.rows_loaded} + "
            f"quarantined {result.rows_quarantined} (staged {staged.records})"
        )


def _drop(con: duckdb.DuckDBPyConnection, *tables: str) -> None:
    for t in tables:
        con.execute(f"DROP TABLE IF EXISTS {t}")
