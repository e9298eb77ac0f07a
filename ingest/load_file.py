"""Load one landing file of a day in two steps: `read_file` (outside the day's transaction) and
`apply_file` (inside it).

`read_file` reads and checks the file into temp tables. File-level problems raise `FileRejected`, and
nothing it does can abort the day's transaction (a DuckDB error inside a transaction would). It picks
the reader: DuckDB's parallel scan (`ingest.scan`, or `ingest.stage` for a repeated key) for a regular
file whose record count the reader confirms, else the resilient Python path (`ingest.resilient`).
`apply_file` runs the reference checks against what is loaded so far (this day included), inserts the
valid rows into raw, quarantines the others and writes the manifest row. Always:
rows_read (the file's physical records, `ingest.records`) = rows_loaded + rows_quarantined.
"""

from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.contract import LINEAGE_COLUMNS, Entity
from ingest.errors import IngestError, LoadOutOfMemory
from ingest.file_checks import open_checked, reader_checks_encoding, reject_invalid_utf8
from ingest.fileinfo import FileInfo, count_records, inspect_file
from ingest.manifest import Batch, record_file, without_nul
from ingest.prepare import fetch_lines
from ingest.references import drop_missing_keys
from ingest.report import FileResult
from ingest.resilient import parse_file
from ingest.scan import Checked, Scan, checked_scan, scan_csv
from ingest.stage import LINE_TOO_LONG, MalformedRecord, drop_rejects, ident, stage_csv
from ingest.timing import phase
from ingest.validate import checked_sql, duplicates_sql, has_duplicates_sql

log = logging.getLogger(__name__)

QUARANTINED = "_ingest_q"


@dataclass
class ReadFile:
    """A file read and checked by `read_file`, waiting for `apply_file`."""

    rel: str
    path: Path  # as named in the landing zone
    entity: Entity
    csv_path: Path
    info: FileInfo  # of the landing file
    records: int  # physical data records: what rows_read must be
    extra: tuple[str, ...]
    #: set for a fast-path file (its reference checks are added by `apply_file`)
    scan: Scan | None = None
    checked: Checked | None = None

    @property
    def tables(self) -> tuple[str, ...]:
        return _tables(self.entity)


def _tables(e: Entity) -> tuple[str, ...]:
    """Temp tables of one entity's file: scanned, staged/parsed, duplicates."""
    return tuple(f"_ingest_{kind}_{e.name}" for kind in ("scanned", "staged", "dups"))


def read_file(con: duckdb.DuckDBPyConnection, batch: Batch, e: Entity, path: Path, tmpdir: Path) -> ReadFile:
    """Read and check `path` (its landing name; read through its real path) into temp tables."""
    rel = batch.relative(path)
    real = path.resolve()
    scanned, staged, dups = _tables(e)
    reader_checked = reader_checks_encoding(e, real)
    scan: Scan | None = None
    with ThreadPoolExecutor(max_workers=1) as pool:
        # hashing runs beside DuckDB's scan; a file whose encoding Python must detect waits for it first
        inspecting = pool.submit(inspect_file, real, e.encodings, reader_checks_utf8=reader_checked)
        early = None if reader_checked else inspecting.result()
        csv_path, header = open_checked(rel, e, real, early, tmpdir)
        try:
            scan = _scan_within_memory(con, rel, e, csv_path, header, scanned, nul_free=batch.nul_free)
        except duckdb.Error as exc:  # e.g. a stray CR: the resilient path reads the file instead
            log.info("%s: DuckDB's reader failed (%s); reading it record by record", rel, type(exc).__name__)
            drop_rejects(con, f"{scanned}_rejects")
        with phase("inspect (sha256, lines) not hidden by the scan"):
            info = inspecting.result()
    layout = info if csv_path == real or info.encoding != "xlsx" else _layout(info, csv_path)
    extra = tuple(h for h in header if h not in e.column_names)
    read = ReadFile(rel, path, e, csv_path, info, layout.data_records, extra)
    if scan is not None:
        reject_invalid_utf8(rel, real, e, scan.malformed)
        if layout.regular and scan.records == layout.data_records and not _over_line_limit(scan):
            if not scan.maybe_duplicates:
                read.scan = scan
                return read
            with phase("staged path (duplicate keys)"):
                con.execute(f"DROP TABLE IF EXISTS {scanned}")
                read.checked = _staged(con, e, csv_path, header, staged, dups, nul_free=batch.nul_free)
            if read.checked.records == layout.data_records:
                return read
            read.checked = None
        con.execute(f"DROP TABLE IF EXISTS {scanned}")
        log.info("%s: %d records by DuckDB's reader, %d physical records; reading it record by record",
                 rel, scan.records, layout.data_records)
    with phase("resilient path (irregular file)"):
        parsed = parse_file(con, rel, e, csv_path, header, staged)
    if layout.misplaced_quotes:  # parity framing is not the rule here: the record splitter is
        read.records = parsed.records
    duplicates = con.execute(has_duplicates_sql(e, staged)).fetchone() is not None
    if duplicates:
        con.execute(duplicates_sql(e, staged, "_line", dups))
    sql = f"({checked_sql(e, staged, '_line', nul_free=batch.nul_free)})"
    read.checked = Checked(sql, parsed.records, parsed.malformed, duplicates, dups, raw_column=True)
    return read


def _scan_within_memory(
    con: duckdb.DuckDBPyConnection, rel: str, e: Entity, csv_path: Path, header: list[str], table: str, *,
    nul_free: bool,
) -> Scan:
    """`scan_csv`, which DuckDB may fail with OutOfMemoryException under the load's memory_limit even
    though it spills (seen on a 100M-line file under the shipped 3GB, in the duplicate-key check's hash
    of every key; per-thread reader buffers at small limits). That is no defect of the file, and the record-by-record
    path would only be slower (it ran for minutes on 100M lines, spilling 20 GB): the scan is tried once
    more on one thread, then LoadOutOfMemory names the file and the setting to raise."""
    try:
        return scan_csv(con, e, csv_path, header, table, nul_free=nul_free)
    except duckdb.OutOfMemoryException as first:
        drop_rejects(con, f"{table}_rejects")
        threads = _setting(con, "threads")
        log.warning("%s: DuckDB ran out of memory scanning it on %s threads (%s); scanning it again on one",
                    rel, threads, str(first).splitlines()[0])
        con.execute("SET threads = 1")
        try:
            return scan_csv(con, e, csv_path, header, table, nul_free=nul_free)
        except duckdb.OutOfMemoryException as exc:
            drop_rejects(con, f"{table}_rejects")
            raise LoadOutOfMemory(
                f"{rel}: DuckDB ran out of memory reading it, also on one thread, under memory_limit "
                f"{_setting(con, 'memory_limit')} ({str(exc).splitlines()[0]}). Nothing of its day folder was "
                "loaded. Raise build.duckdb_memory_limit in config/pipeline.yml (or KAM_DUCKDB_MEMORY_LIMIT; "
                "about 60% of RAM on a dedicated host), keep free disk under its temp directory, and re-run."
            ) from exc
        finally:
            con.execute(f"SET threads = {int(threads)}")


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    row = con.execute("SELECT current_setting(?)", [name]).fetchone()
    return str(row[0]) if row else "?"


def _over_line_limit(scan: Scan) -> bool:
    """A record DuckDB's reader refused only for its length (the resilient path reads it whole)."""
    return any(LINE_TOO_LONG in m.error_type for m in scan.malformed)


def _layout(info: FileInfo, csv_path: Path) -> FileInfo:
    """`info` with the record counts of the CSV converted from a workbook."""
    c = count_records(csv_path)
    return dataclasses.replace(info, records=c.records, physical_lines=c.lines, bare_crs=c.bare_crs,
                               crlfs=c.crlfs, lfs=c.lfs, nuls=c.nuls, misplaced_quotes=c.misplaced_quotes)


def _staged(
    con: duckdb.DuckDBPyConnection, e: Entity, csv_path: Path, header: list[str], table: str, dups: str, *,
    nul_free: bool = False,
) -> Checked:
    """A regular file with a (possibly) repeated key: all-VARCHAR staging + the duplicates table."""
    staged = stage_csv(con, csv_path, header, e.column_names, table)
    duplicates = con.execute(has_duplicates_sql(e, table)).fetchone() is not None
    if duplicates:
        con.execute(duplicates_sql(e, table, staged.line_expr, dups))
    return Checked(f"({checked_sql(e, table, staged.line_expr, nul_free=nul_free)})", staged.records,
                   staged.malformed,
                   duplicates, dups)


def apply_file(con: duckdb.DuckDBPyConnection, batch: Batch, read: ReadFile) -> FileResult:
    """Insert the valid rows, quarantine the rest, record the manifest row (inside the day's transaction)."""
    e = read.entity
    with phase("references"):
        checked = checked_scan(con, e, read.scan) if read.scan is not None else read.checked
    assert checked is not None
    with phase("insert raw"):
        loaded = _insert_valid(con, batch, e, read.rel, checked)
    # the quarantine is only worked out for a file that had rejected rows
    with phase("quarantine"):
        quarantined = 0 if loaded == checked.records else _quarantine(con, batch, e, read, checked)
    drop_tables(con, e)
    result = FileResult(
        path=read.rel, source=e.source, entity=e.name, rows_read=read.records, rows_loaded=loaded,
        rows_quarantined=quarantined, status="loaded", extra_columns=read.extra, encoding=read.info.encoding,
    )
    _check_accounting(result)
    record_file(con, batch, result, read.info)
    return result


def drop_tables(con: duckdb.DuckDBPyConnection, e: Entity) -> None:
    """Drop every temp table `read_file` / `apply_file` made for entity `e`'s file."""
    for t in (*_tables(e), QUARANTINED):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    drop_missing_keys(con, e)


def _insert_valid(con: duckdb.DuckDBPyConnection, batch: Batch, e: Entity, rel: str, checked: Checked) -> int:
    columns = ", ".join(ident(c) for c in e.column_names)
    lineage = ", ".join(name for name, _ in LINEAGE_COLUMNS)
    not_duplicate = f" AND c._line NOT IN (SELECT _line FROM {checked.duplicates_table})" if checked.duplicates else ""
    row = con.execute(
        f"""INSERT INTO {e.raw_table} ({columns}, {lineage})
            SELECT {columns}, ?, c._line, ?, ?, ? FROM {checked.sql} c
            WHERE c._err IS NULL{not_duplicate}""",
        [rel, batch.batch_id, batch.day, batch.loaded_at],
    ).fetchone()
    return int(row[0]) if row else 0


def _quarantine(con: duckdb.DuckDBPyConnection, batch: Batch, e: Entity, read: ReadFile, checked: Checked) -> int:
    """Write one raw.quarantine row per rejected record (with the record's own text); return the count."""
    duplicates = (
        f"UNION ALL SELECT d._line, d.column_name, d.reason FROM {checked.duplicates_table} d "
        "WHERE d._line NOT IN (SELECT _line FROM bad)"
        if checked.duplicates else ""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {QUARANTINED} AS
            WITH bad AS (SELECT _line, _err.col AS column_name, _err.reason AS reason FROM {checked.sql} c
                         WHERE _err IS NOT NULL)
            SELECT * FROM bad {duplicates}"""
    )
    lines = [int(r[0]) for r in con.execute(f"SELECT _line FROM {QUARANTINED}").fetchall()]
    malformed = checked.malformed
    if not lines and not malformed:
        return 0
    if checked.raw_column:
        staged = _tables(e)[1]
        texts = dict(con.execute(
            f"SELECT s._line, s._raw FROM {staged} s SEMI JOIN {QUARANTINED} q ON q._line = s._line").fetchall())
    else:  # a regular file: a record is its physical line
        texts = fetch_lines(read.csv_path, set(lines))
    params = [read.rel, e.source, e.name, batch.day, batch.batch_id, batch.loaded_at]
    if batch.nul_free:
        texts = {line: without_nul(text, True) for line, text in texts.items()}
        malformed = [dataclasses.replace(m, text=without_nul(m.text, True)) for m in malformed]
    _insert_quarantine(con, params, texts, malformed)
    return len(lines) + len(malformed)


def _insert_quarantine(
    con: duckdb.DuckDBPyConnection, params: list, texts: dict[int, str], malformed: list[MalformedRecord]
) -> None:
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


def _malformed_reason(m: MalformedRecord) -> str:
    cls = "truncated_last_line" if m.is_last else "malformed_row"
    return f"{cls}: the record on line {m.record} does not parse as a complete CSV row ({m.error})"


def _check_accounting(result: FileResult) -> None:
    if result.rows_read != result.rows_loaded + result.rows_quarantined:
        raise IngestError(
            f"{result.path}: {result.rows_read} physical records but {result.rows_loaded} loaded + "
            f"{result.rows_quarantined} quarantined; the load of this file is refused"
        )
