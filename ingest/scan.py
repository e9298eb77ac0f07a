"""The fast path: cast and check a UTF-8 CSV straight from DuckDB's reader in one parallel scan.

One statement reads the file and materialises a temp table of typed contract columns plus each row's
first failing non-reference check; reference checks follow on that table (`ingest.references`).
Records are numbered by their position in the insertion-ordered temp table (`WITH ORDINALITY` would
force a single-threaded scan), which is their physical line because only `regular` files (one record
per LF line, `ingest.fileinfo`) are trusted to this path. A file with a repeated key is left to the
staged path (`ingest.stage`); an irregular one to `ingest.resilient`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.contract import Entity
from ingest.references import first_failure_sql
from ingest.stage import MalformedRecord, collect_malformed, count_rows, ident, read_csv_sql, record_line_expr
from ingest.timing import phase
from ingest.validate import scan_checked_sql


@dataclass(frozen=True)
class Checked:
    """A checked file ready to load: `sql` selects (_line, typed contract columns, _err)."""

    sql: str
    records: int  # data records the reader returned, header excluded
    malformed: list[MalformedRecord]
    #: rows dropped for duplicate keys are listed in the temp table `duplicates_table`
    duplicates: bool
    duplicates_table: str = ""
    #: `sql`'s source has column `_raw`, each record's own text (the resilient path)
    raw_column: bool = False


@dataclass(frozen=True)
class Scan:
    table: str
    records: int
    malformed: list[MalformedRecord]
    #: some key may repeat (then the staged path must load the file)
    maybe_duplicates: bool


def scan_csv(
    con: duckdb.DuckDBPyConnection, e: Entity, csv_path: Path, header: list[str], table: str, *, nul_free: bool = False
) -> Scan:
    """Read `csv_path` once into temp table `table` (typed columns + `_err`), in file order."""
    rejects = f"{table}_rejects"
    con.execute("SET preserve_insertion_order = true")  # the temp table's row order is the file's
    with phase("scan: read_csv + casts + checks"):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS {scan_checked_sql(e, read_csv_sql(csv_path, header, rejects), nul_free=nul_free)}"
        )
    good = count_rows(con, table)
    malformed = collect_malformed(con, rejects, good)
    with phase("scan: duplicate-key check"):
        return Scan(table, good + len(malformed), malformed, _maybe_duplicates(con, e, table))


def checked_scan(con: duckdb.DuckDBPyConnection, e: Entity, scan: Scan) -> Checked:
    """The `Checked` of a scan that needs no staging: physical lines and reference checks added."""
    row = con.execute(f"SELECT min(rowid) FROM {scan.table}").fetchone()
    first = int(row[0]) if row and row[0] is not None else 0
    joins, err = first_failure_sql(con, e, scan.table)
    columns = ", ".join(f"s.{ident(c.name)}" for c in e.columns)
    sql = f"""(SELECT {record_line_expr(scan.malformed, "s._k")} AS _line, {columns}, {err} AS _err
        FROM (SELECT rowid - {first} + 1 AS _k, * FROM {scan.table}) s {joins})"""
    return Checked(sql, scan.records, scan.malformed, duplicates=False)


def _maybe_duplicates(con: duckdb.DuckDBPyConnection, e: Entity, table: str) -> bool:
    """False only when every key is unique (hashes of the typed key; a collision merely means True)."""
    key = ", ".join(ident(k) for k in e.key)
    row = con.execute(f"SELECT count(*) > count(DISTINCT hash({key})) FROM {table}").fetchone()
    return bool(row and row[0])
