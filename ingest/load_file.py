"""Load one landing file of a day into its raw table, inside the day's open transaction.

File-level problems raise `FileRejected` (the caller rolls the day back); row-level problems go to
raw.quarantine. Always: rows_read = rows_loaded + rows_quarantined.

The file is read once by the fast path (`ingest.scan`: typed + checked in one scan); only a file with
quoted line breaks or a repeated key is read again by the staged path (`ingest.stage`).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.contract import LINEAGE_COLUMNS, Entity
from ingest.errors import IngestError
from ingest.file_checks import open_checked, reader_checks_encoding, reject_invalid_utf8
from ingest.fileinfo import FileInfo, inspect_file
from ingest.manifest import Batch, record_file
from ingest.prepare import fetch_lines
from ingest.references import drop_missing_keys
from ingest.report import FileResult
from ingest.scan import Checked, checked_scan, scan_csv
from ingest.stage import MalformedRecord, ident, stage_csv
from ingest.timing import phase
from ingest.validate import checked_sql, duplicates_sql, has_duplicates_sql

log = logging.getLogger(__name__)

SCANNED, STAGED, DUPLICATES, QUARANTINED = "_ingest_scanned", "_ingest_staged", "_ingest_dups", "_ingest_q"


def load_file(con: duckdb.DuckDBPyConnection, batch: Batch, e: Entity, path: Path, tmpdir: Path) -> FileResult:
    rel = batch.relative(path)
    reader_checked = reader_checks_encoding(e, path)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # hashing runs beside DuckDB's scan; a file whose encoding Python must detect waits for it first
        inspecting = pool.submit(inspect_file, path, e.encodings, reader_checks_utf8=reader_checked)
        early = None if reader_checked else inspecting.result()
        csv_path, header = open_checked(rel, e, path, early, tmpdir)
        scan = scan_csv(con, e, csv_path, header, SCANNED)
        with phase("inspect (sha256, lines) not hidden by the scan"):
            info = inspecting.result()
    reject_invalid_utf8(rel, path, e, scan.malformed)
    extra = tuple(h for h in header if h not in e.column_names)
    if scan.maybe_duplicates or info.physical_lines > scan.records + 1:
        with phase("staged path (line breaks / duplicate keys)"):
            checked = _staged(con, e, csv_path, header, info)
    else:
        with phase("references"):
            checked = checked_scan(con, e, scan)
    with phase("insert raw"):
        loaded = _insert_valid(con, batch, e, rel, checked)
    # the quarantine is only worked out for a file that had rejected rows
    with phase("quarantine"):
        quarantined = 0 if loaded == checked.records else _quarantine(con, batch, e, rel, csv_path, checked)
    _drop(con, SCANNED, STAGED, DUPLICATES, QUARANTINED)
    drop_missing_keys(con, e)
    result = FileResult(
        path=rel, source=e.source, entity=e.name, rows_read=checked.records, rows_loaded=loaded,
        rows_quarantined=quarantined, status="loaded", extra_columns=extra, encoding=info.encoding,
    )
    _check_accounting(result)
    record_file(con, batch, result, info)
    return result


def _staged(con: duckdb.DuckDBPyConnection, e: Entity, csv_path: Path, header: list[str], info: FileInfo) -> Checked:
    """The general path: all-VARCHAR staging (physical lines across quoted line breaks) + duplicates."""
    con.execute(f"DROP TABLE IF EXISTS {SCANNED}")
    staged = stage_csv(con, csv_path, header, info, STAGED)
    duplicates = con.execute(has_duplicates_sql(e, STAGED)).fetchone() is not None
    if duplicates:
        con.execute(duplicates_sql(e, STAGED, staged.line_expr, DUPLICATES))
    return Checked(f"({checked_sql(e, STAGED, staged.line_expr)})", staged.records, staged.malformed, duplicates)


def _insert_valid(con: duckdb.DuckDBPyConnection, batch: Batch, e: Entity, rel: str, checked: Checked) -> int:
    columns = ", ".join(ident(c) for c in e.column_names)
    lineage = ", ".join(name for name, _ in LINEAGE_COLUMNS)
    not_duplicate = f" AND c._line NOT IN (SELECT _line FROM {DUPLICATES})" if checked.duplicates else ""
    row = con.execute(
        f"""INSERT INTO {e.raw_table} ({columns}, {lineage})
            SELECT {columns}, ?, c._line, ?, ?, ? FROM {checked.sql} c
            WHERE c._err IS NULL{not_duplicate}""",
        [rel, batch.batch_id, batch.day, batch.loaded_at],
    ).fetchone()
    return int(row[0]) if row else 0


def _quarantine(
    con: duckdb.DuckDBPyConnection,
    batch: Batch,
    e: Entity,
    rel: str,
    csv_path: Path,
    checked: Checked,
) -> int:
    """Write one raw.quarantine row per rejected record (with its original line text); return the count."""
    duplicates = (
        f"UNION ALL SELECT d._line, d.column_name, d.reason FROM {DUPLICATES} d "
        "WHERE d._line NOT IN (SELECT _line FROM bad)"
        if checked.duplicates else ""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {QUARANTINED} AS
            WITH bad AS (SELECT _line, _err.col AS column_name, _err.reason AS reason FROM {checked.sql} c
                         WHERE _err IS NOT NULL)
            SELECT * FROM bad {duplicates}"""
    )
    malformed = checked.malformed
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


def _check_accounting(result: FileResult) -> None:
    if result.rows_read != result.rows_loaded + result.rows_quarantined:
        raise IngestError(
            f"{result.path}: rows_read {result.rows_read} != loaded {result.rows_loaded} + "
            f"quarantined {result.rows_quarantined}"
        )


def _drop(con: duckdb.DuckDBPyConnection, *tables: str) -> None:
    for t in tables:
        con.execute(f"DROP TABLE IF EXISTS {t}")
