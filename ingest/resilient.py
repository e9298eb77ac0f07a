"""The resilient path: a file DuckDB's reader cannot be trusted with, read record by record in Python.

Used when a file is not `regular` (CR or CRLF line ends, blank lines, quoted line breaks, NUL bytes,
misplaced quotes), when DuckDB's reader fails on it, or when its record count differs from the
physical records (`ingest.records`). Every record of the file (`split_records`) becomes either a row
of the staged table (`_line` = its first physical line, `_raw` = its own text, the contract columns
as VARCHAR) or a `MalformedRecord`: none can be skipped, so the books always balance.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from operator import itemgetter
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.contract import Entity
from ingest.errors import FileRejected
from ingest.fileinfo import CHUNK
from ingest.records import Record, physical_lines, split_records
from ingest.stage import MalformedRecord, ident

BATCH = 50_000
#: a quoted field; possessive quantifiers, so an unclosed quote fails in linear time (a plain
#: `(?:[^"]+|"")*` backtracks exponentially, and could end a field inside an escaped `""`)
_QUOTED = re.compile(r'"((?:[^"]++|"")*+)"')


@dataclass(frozen=True)
class Parsed:
    table: str  # temp table: _line BIGINT, _raw VARCHAR, the contract columns VARCHAR
    records: int  # data records (header excluded)
    malformed: list[MalformedRecord]


def record_fields(text: str) -> list[str] | str:
    """`parse_fields`, by the quickest means that gives its answer: a split for a record without
    quotes, Python's strict C parser for most others (`parse_fields` when that one objects)."""
    if '"' not in text:
        return text.split(",") if "\n" not in text and "\r" not in text else parse_fields(text)
    try:
        return next(csv.reader((text,), strict=True))
    except csv.Error:  # e.g. a field over csv's size limit, or a real defect: parse_fields decides
        return parse_fields(text)


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
    pick = itemgetter(*[header.index(c) for c in e.column_names])
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} (_line BIGINT, _raw VARCHAR, "
        + ", ".join(f"{ident(c)} VARCHAR" for c in e.column_names) + ")"
    )
    malformed: list[MalformedRecord] = []
    batch = _Batch()
    records = 0
    last: Record | None = None
    for number, rec in enumerate(_records(rel, csv_path)):
        last = rec
        if number == 0:
            continue  # the header, checked by the caller
        records += 1
        fields = record_fields(rec.text)
        if isinstance(fields, str) or len(fields) != len(header):
            problem = fields if isinstance(fields, str) else f"{len(fields)} fields, the header has {len(header)}"
            malformed.append(MalformedRecord(rec.line, rec.text, problem, False, "PARSE"))
            continue
        batch.add(rec, pick(fields))
        if len(batch.lines) >= BATCH:
            batch = batch.flush(con, table)
    batch.flush(con, table)
    if malformed and last is not None and malformed[-1].record == last.line:
        malformed[-1] = replace(malformed[-1], is_last=True)
    return Parsed(table, records, malformed)


class _Batch:
    """Records gathered for one INSERT into the staged table (an empty field becomes NULL there)."""

    def __init__(self) -> None:
        self.lines: list[int] = []
        self.texts: list[str] = []
        self.rows: list[tuple[str, ...]] = []

    def add(self, rec: Record, values: tuple[str, ...] | str) -> None:
        self.lines.append(rec.line)
        self.texts.append(rec.text)
        self.rows.append(values if isinstance(values, tuple) else (values,))

    def flush(self, con: duckdb.DuckDBPyConnection, table: str) -> _Batch:
        if self.lines:
            columns = list(zip(*self.rows, strict=True))
            arrays = [pa.array(self.lines, pa.int64()), pa.array(self.texts, pa.string())]
            arrays += [pa.array(c, pa.string()) for c in columns]
            names = [f"c{i}" for i in range(len(arrays))]
            values = ", ".join(["c0", "c1", *[f"nullif({n}, '')" for n in names[2:]]])
            con.register("_ingest_batch", pa.table(arrays, names=names))
            try:
                con.execute(f"INSERT INTO {table} SELECT {values} FROM _ingest_batch")
            finally:
                con.unregister("_ingest_batch")
        return _Batch()


def _records(rel: str, csv_path: Path) -> Iterator[Record]:
    """The records of the file; FileRejected at the first byte that is not UTF-8."""
    rec: Record | None = None
    with csv_path.open("r", encoding="utf-8-sig", newline="") as f:
        try:
            for rec in split_records(physical_lines(iter(lambda: f.read(CHUNK), ""))):
                yield rec
        except UnicodeDecodeError as exc:
            after = f" after line {rec.line + rec.lines - 1}" if rec else ""
            raise FileRejected(rel, f"wrong_encoding: {csv_path.name} is not valid UTF-8{after} ({exc.reason})") from exc
