"""Scan a regular UTF-8 CSV with DuckDB's reader into a temp table of VARCHAR columns (for files with
a repeated key) and the reader's rejected records.

Malformed records (wrong field count, unterminated quote) are not loaded by DuckDB; they come back
as `MalformedRecord`s (from DuckDB's rejects table) so the caller can quarantine them. Only files
that are `FileInfo.regular` (one record per LF line) are read by DuckDB, so a record's number is its
physical line; every other file goes through `ingest.resilient`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from kam_warehouse.core.warehouse.sql import string_literal

#: error_type DuckDB's reader gives a record with bytes that are not UTF-8
INVALID_ENCODING = "INVALID ENCODING"
#: error_type of a record longer than the reader's max_line_size
LINE_TOO_LONG = "LINE SIZE OVER MAXIMUM"
#: what each DuckDB reject error_type means, in words that carry none of the record's content
READER_ERRORS = {
    "MISSING COLUMNS": "too few fields",
    "TOO MANY COLUMNS": "too many fields",
    "UNQUOTED VALUE": "a quoted field is not closed or is followed by other characters",
    LINE_TOO_LONG: "the record is longer than the reader's line limit",
    INVALID_ENCODING: "bytes that are not UTF-8",
}


@dataclass(frozen=True)
class MalformedRecord:
    record: int  # the record's first physical line (header = 1)
    text: str  # the record's own text (kept in the build warehouse only, never in a message)
    error: str  # what is wrong, without any of the record's content
    is_last: bool
    error_type: str = ""


@dataclass(frozen=True)
class Staged:
    table: str
    #: SQL expression over the staged table giving each record's 1-based physical line
    line_expr: str
    records: int  # data records seen, header excluded
    malformed: list[MalformedRecord]


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


#: a single-quoted SQL string literal (the one quoting, kam_warehouse.core.warehouse.sql)
literal = string_literal


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
        f"SELECT line, any_value(csv_line), list(DISTINCT error_type ORDER BY error_type) "
        f"FROM {rejects} GROUP BY line ORDER BY line"
    ).fetchall()
    drop_rejects(con, rejects)
    total_records = good + len(bad) + 1
    return [
        MalformedRecord(
            int(r), (text or "").rstrip("\r\n"), "; ".join(READER_ERRORS.get(k, k.lower()) for k in kinds),
            int(r) == total_records, "; ".join(kinds),
        )
        for r, text, kinds in bad
    ]


def drop_rejects(con: duckdb.DuckDBPyConnection, rejects: str) -> None:
    con.execute(f"DROP TABLE IF EXISTS {rejects}")
    con.execute(f"DROP TABLE IF EXISTS {rejects}_scans")


def record_line_expr(malformed: list[MalformedRecord], k: str = "_k") -> str:
    """SQL for the record number (header = 1) of the k-th (1-based) good record: k + 1 plus one for
    each malformed record before it (equals the physical line when no field holds a line break)."""
    thresholds = [m.record - i for i, m in enumerate(malformed, start=1)]
    record = f"{k} + 1"
    if thresholds:
        record += f" + len(list_filter({thresholds}, lambda x: x <= {k}))"
    return record


def stage_csv(
    con: duckdb.DuckDBPyConnection, csv_path: Path, header: list[str], columns: tuple[str, ...], table: str
) -> Staged:
    """CREATE TEMP TABLE `table` (_k BIGINT, <contract columns> VARCHAR) from the regular file
    `csv_path`; `_k` numbers the good records 1.. in file order, `Staged.line_expr` maps them to lines."""
    rejects = f"{table}_rejects"
    selected = ", ".join(ident(c) for c in columns)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT ordinality AS _k, {selected} FROM {read_csv_sql(csv_path, header, rejects)} WITH ORDINALITY"""
    )
    good = count_rows(con, table)
    malformed = collect_malformed(con, rejects, good)
    return Staged(table, record_line_expr(malformed), good + len(malformed), malformed)


def count_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0
