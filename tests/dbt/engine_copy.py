"""Copy the `raw` schema of a DuckDB build warehouse into PostgreSQL, column types kept.

The PostgreSQL build must read exactly the rows the DuckDB build read: each raw table is recreated
with the same columns (DuckDB types mapped to their PostgreSQL equivalents, DECIMAL precision and
scale unchanged) and filled with COPY from a CSV that DuckDB writes (NULL unquoted-empty, empty
strings quoted, so the two stay distinct).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import duckdb
import psycopg2

_SIMPLE_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "DOUBLE": "double precision",
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),(\d+)\)")


class UnsupportedColumnType(ValueError):
    """A raw column has a DuckDB type this copy does not map."""


def postgres_type(duckdb_type: str, *, table: str, column: str) -> str:
    """The PostgreSQL type of a DuckDB column type; raises naming the column when unmapped."""
    if duckdb_type in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[duckdb_type]
    decimal = _DECIMAL.fullmatch(duckdb_type)
    if decimal:
        return f"numeric({decimal.group(1)},{decimal.group(2)})"
    raise UnsupportedColumnType(f"raw.{table}.{column}: DuckDB type {duckdb_type} has no PostgreSQL mapping")


def _columns(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, list[tuple[str, str]]]:
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = ? order by table_name, ordinal_position", [schema]
    ).fetchall():
        tables.setdefault(table, []).append((column, data_type))
    return tables


def copy_schema_to_postgres(duckdb_path: Path, postgres_dsn: str, schema: str = "raw") -> dict[str, int]:
    """Recreate every table of `schema` from the DuckDB file in PostgreSQL; returns rows per table."""
    counts: dict[str, int] = {}
    source = duckdb.connect(str(duckdb_path), read_only=True)
    target = psycopg2.connect(postgres_dsn)
    try:
        with tempfile.TemporaryDirectory(prefix="kam-copy-") as scratch, target.cursor() as cur:
            cur.execute(f'create schema if not exists "{schema}"')
            for table, columns in _columns(source, schema).items():
                ddl = ", ".join(
                    f'"{name}" {postgres_type(typ, table=table, column=name)}' for name, typ in columns)
                cur.execute(f'drop table if exists "{schema}"."{table}"')
                cur.execute(f'create table "{schema}"."{table}" ({ddl})')
                csv_path = Path(scratch) / f"{table}.csv"
                source.execute(
                    f"copy (select * from \"{schema}\".\"{table}\") to '{csv_path}' (format csv, header)")
                with csv_path.open(encoding="utf-8") as handle:
                    cur.copy_expert(f'copy "{schema}"."{table}" from stdin with (format csv, header)', handle)
                cur.execute(f'select count(*) from "{schema}"."{table}"')
                counts[table] = int(cur.fetchone()[0])
        target.commit()
    finally:
        target.close()
        source.close()
    return counts
