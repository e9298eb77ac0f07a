"""The resilient path: a file DuckDB's reader cannot be trusted with, read record by record in Python.

Used when a file is not `regular` (CR or CRLF line ends, blank lines, quoted line breaks, NUL bytes,
misplaced quotes), when DuckDB's reader fails on it, or when its record count differs from the
physical records (`ingest.records`). Every record of the file (`split_records`) becomes either a row
of the staged table (`_line` = its first physical line, `_raw` = its own text, the contract columns
as VARCHAR) or a `MalformedRecord`: none can be skipped, so the books always balance.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.contract import Entity
from ingest.errors import FileRejected
from ingest.fileinfo import CHUNK
from ingest.records import Record, physical_lines, split_records
from ingest.stage import MalformedRecord, ident

BATCH = 50_000
_QUOTED = re.compile(r'"((?:[^"]+|"")*)"')


@dataclass(frozen=True)
class Parsed:
    table: str  # temp table: _line BIGINT, _raw VARCHAR, the contract columns VARCHAR
    records: int  # data records (header excluded)
    lines: int  # physical lines spanned by the header and every record (blank lines excluded)
    malformed: list[MalformedRecord]


def parse_fields(text: str) -> list[str] | str:
    """The fields of one record, or what is wrong with it (RFC 4180; a quote inside an unquoted field
    is a literal character, as for DuckDB's reader)."""
    fields: list[str] = []
    pos, n = 0, len(text)
    while True:
        if text.startswith('"', pos):
            m = _QUOTED.match(text, pos)
            if m is None:
                return "a quoted field is not closed"
            fields.append(m.group(1).replace('""', '"'))
            pos = m.end()
        else:
            end = text.find(",", pos)
            end = n if end < 0 else end
            value = text[pos:end]
            if "\n" in value or "\r" in value:
                return "a line break outside quotes"
            fields.append(value)
            pos = end
        if pos == n:
            return fields
        if text[pos] != ",":
            return "a quoted field is followed by other characters"
        pos += 1
        if pos == n:
            fields.append("")
            return fields


def parse_file(
    con: duckdb.DuckDBPyConnection, rel: str, e: Entity, csv_path: Path, header: list[str], table: str
) -> Parsed:
    """CREATE TEMP TABLE `table` from every record of the UTF-8 file `csv_path` after its header."""
    positions = [header.index(c) for c in e.column_names]
    names = ["_line", "_raw", *e.column_names]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} (_line BIGINT, _raw VARCHAR, "
        + ", ".join(f"{ident(c)} VARCHAR" for c in e.column_names) + ")"
    )
    malformed: list[MalformedRecord] = []
    columns: list[list[str | int | None]] = [[] for _ in names]
    records = lines = 0
    last: Record | None = None
    for number, rec in enumerate(_records(rel, csv_path)):
        lines += rec.lines
        if number == 0:
            continue  # the header, checked by the caller
        records += 1
        last = rec
        fields = parse_fields(rec.text)
        if isinstance(fields, str) or len(fields) != len(header):
            problem = fields if isinstance(fields, str) else f"{len(fields)} fields, the header has {len(header)}"
            malformed.append(MalformedRecord(rec.line, rec.text, problem, False, "PARSE"))
            continue
        columns[0].append(rec.line)
        columns[1].append(rec.text)
        for i, pos in enumerate(positions, start=2):
            columns[i].append(fields[pos] or None)
        if len(columns[0]) >= BATCH:
            _insert(con, table, names, columns)
            columns = [[] for _ in names]
    _insert(con, table, names, columns)
    if malformed and last is not None and malformed[-1].record == last.line:
        malformed[-1] = replace(malformed[-1], is_last=True)
    return Parsed(table, records, lines, malformed)


def _records(rel: str, csv_path: Path) -> Iterator[Record]:
    lines_read = 0

    def counted(lines: Iterator[str]) -> Iterator[str]:
        nonlocal lines_read
        for line in lines:
            lines_read += 1
            yield line

    with csv_path.open("r", encoding="utf-8-sig", newline="") as f:
        try:
            yield from split_records(counted(physical_lines(iter(lambda: f.read(CHUNK), ""))))
        except UnicodeDecodeError as exc:
            raise FileRejected(
                rel, f"wrong_encoding: {csv_path.name} is not valid UTF-8 after line {lines_read} ({exc.reason})"
            ) from exc


def _insert(con: duckdb.DuckDBPyConnection, table: str, names: list[str], columns: list[list]) -> None:
    if not columns[0]:
        return
    arrays = [pa.array(columns[0], pa.int64())] + [pa.array(c, pa.string()) for c in columns[1:]]
    batch = pa.table(arrays, names=[f"c{i}" for i in range(len(names))])
    con.register("_ingest_batch", batch)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _ingest_batch")
    finally:
        con.unregister("_ingest_batch")
