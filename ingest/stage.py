"""Scan a UTF-8 CSV with DuckDB's reader into a temp table of VARCHAR columns plus its physical line.

Malformed records (wrong field count, unterminated quote) are not loaded by DuckDB; they come back
as `MalformedRecord`s (from DuckDB's rejects table) so the caller can quarantine them.
This is the general (slower) path; `ingest.scan` is the fast path used when it applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.fileinfo import FileInfo

#: error_type DuckDB's reader gives a record with bytes that are not UTF-8
INVALID_ENCODING = "INVALID ENCODING"


@dataclass(frozen=True)
class MalformedRecord:
    record: int  # 1-based record number, header = 1 (equals the physical line without embedded newlines)
    text: str
    error: str
    is_last: bool
    error_type: str = ""


@dataclass(frozen=True)
class Staged:
    table: str
    #: SQL expression over the staged table giving each record's 1-based physical line
    line_expr: str
    records: int  # data records seen, header excluded (= rows_read)
    malformed: list[MalformedRecord]


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def read_csv_sql(csv_path: Path, header: list[str], rejects: str) -> str:
    """`read_csv(...)` of `csv_path` with every header column VARCHAR; bad records go to `rejects`
    (and its scan table `<rejects>_scans`) instead of failing the scan."""
    columns = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in header) + "}"
    return (
        f"read_csv({literal(str(csv_path))}, columns = {columns}, header = true, auto_detect = false, "
        "delim = ',', quote = '\"', escape = '\"', all_varchar = true, store_rejects = true, "
        f"rejects_table = {literal(rejects)}, rejects_scan = {literal(rejects + '_scans')})"
    )


def collect_malformed(con: duckdb.DuckDBPyConnection, rejects: str, good: int) -> list[MalformedRecord]:
    """The records DuckDB's reader rejected (one per record, in file order); drops the rejects tables.
    `good` is the number of records it did read (needed to tell the last record)."""
    bad = con.execute(
        f"SELECT line, any_value(csv_line), string_agg(DISTINCT error_message, '; '), "
        f"string_agg(DISTINCT error_type, '; ') FROM {rejects} GROUP BY line ORDER BY line"
    ).fetchall()
    con.execute(f"DROP TABLE IF EXISTS {rejects}")
    con.execute(f"DROP TABLE IF EXISTS {rejects}_scans")
    total_records = good + len(bad) + 1
    return [
        MalformedRecord(int(r), (text or "").rstrip("\r\n"), msg or "", int(r) == total_records, kind or "")
        for r, text, msg, kind in bad
    ]


def record_line_expr(malformed: list[MalformedRecord], k: str = "_k") -> str:
    """SQL for the record number (header = 1) of the k-th (1-based) good record: k + 1 plus one for
    each malformed record before it (equals the physical line when no field holds a line break)."""
    thresholds = [m.record - i for i, m in enumerate(malformed, start=1)]
    record = f"{k} + 1"
    if thresholds:
        record += f" + len(list_filter({thresholds}, lambda x: x <= {k}))"
    return record


def stage_csv(
    con: duckdb.DuckDBPyConnection, csv_path: Path, header: list[str], info: FileInfo, table: str
) -> Staged:
    """CREATE TEMP TABLE `table` (_k BIGINT, <header columns> VARCHAR) from `csv_path`; `_k` numbers
    the good records 1.. in file order, `Staged.line_expr` maps them to physical lines."""
    rejects = f"{table}_rejects"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT ordinality AS _k, * EXCLUDE (ordinality) FROM {read_csv_sql(csv_path, header, rejects)}
        WITH ORDINALITY"""
    )
    good = count_rows(con, table)
    malformed = collect_malformed(con, rejects, good)
    total_records = good + len(malformed) + 1
    line_expr = _line_expr(con, table, header, malformed, multiline=info.physical_lines > total_records)
    return Staged(table, line_expr, good + len(malformed), malformed)


def _line_expr(
    con: duckdb.DuckDBPyConnection,
    table: str,
    header: list[str],
    malformed: list[MalformedRecord],
    *,
    multiline: bool,
) -> str:
    """SQL for the physical line of good record `_k`: its record number shifted past malformed records
    and, when quoted fields hold line breaks, past the extra physical lines of earlier good records
    (materialised as column `_line` in that case only)."""
    record = record_line_expr(malformed)
    if not multiline:
        return record
    newlines = " + ".join(
        f"coalesce(length({ident(c)}) - length(replace({ident(c)}, chr(10), '')), 0)" for c in header
    )
    line = (
        f"{record} + coalesce(sum({newlines}) OVER "
        "(ORDER BY _k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {line} AS _line, * FROM {table}")
    return "_line"


def count_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0
