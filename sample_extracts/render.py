"""Turning internal tables (integer ids, scaled integers, dates) into contract CSV text via DuckDB.

Formats: ids `A000012`, dates `YYYY-MM-DD`, timestamps `YYYY-MM-DDTHH:MM:SS`, decimals with `.` and
no thousands separators, booleans `true`/`false`, NULL as an empty field, RFC 4180 quoting where
needed. Column order is the contract's (`ingest.contract`)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.contract import Column, Entity
from sample_extracts.ids import ID_FORMATS

#: decimals per decimal/rate column (internal value = real value x 10^scale); default 2
SCALES: dict[str, int] = {"unit_price": 4, "rate_to_reporting": 6, "probability": 2}
CHANGED_AT = "_changed_at"  # internal: when the record changed, decides its day folder


def scale_of(column: str) -> int:
    return SCALES.get(column, 2)


def _expression(c: Column) -> str:
    name = f'"{c.name}"'
    if c.name in ID_FORMATS:
        prefix, digits = ID_FORMATS[c.name]
        return f"printf('{prefix}%0{digits}d', {name})"
    if c.type in ("decimal", "rate"):
        s = scale_of(c.name)
        return f"({name} / {10**s})::DECIMAL(18,{s})"
    if c.type == "date":
        return f"strftime({name}, '%Y-%m-%d')"
    if c.type == "timestamp":
        return f"strftime({name}, '%Y-%m-%dT%H:%M:%S')"
    if c.type == "bool":
        return f"CASE WHEN {name} THEN 'true' WHEN NOT {name} THEN 'false' END"
    return name


def header_line(entity: Entity) -> str:
    return ",".join(entity.column_names) + "\n"


class CsvRenderer:
    """One in-memory DuckDB connection that writes tables as headerless contract CSV."""

    def __init__(self) -> None:
        self._con = duckdb.connect(config={"threads": 2, "preserve_insertion_order": True})

    def write(self, entity: Entity, table: pa.Table, path: Path, *, order_by_change: bool = False) -> None:
        """Write `table`'s rows (without header) to `path`, replacing it."""
        select = ", ".join(f"{_expression(c)} AS \"{c.name}\"" for c in entity.columns)
        order = ""
        if order_by_change:
            order = " ORDER BY " + ", ".join([CHANGED_AT, *(f'"{k}"' for k in entity.key)])
        self._con.register("chunk", table)
        try:
            self._con.execute(
                f"COPY (SELECT {select} FROM chunk{order}) TO '{path.as_posix()}' (FORMAT csv, HEADER false)"
            )
        finally:
            self._con.unregister("chunk")

    def close(self) -> None:
        self._con.close()
