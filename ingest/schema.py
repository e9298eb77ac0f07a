"""DDL of the `raw` schema, generated from the extract contract (ingest.contract).

The same statements create it on every engine (the embedded DuckDB file, ingest's DuckDB working file,
a PostgreSQL build database): only types both accept, as dbt's sources expect them — TEXT (DuckDB's
VARCHAR; PostgreSQL `text`), DECIMAL(p,s) (`numeric(p,s)`), DATE, TIMESTAMP (without time zone),
BOOLEAN, BIGINT, INTEGER.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ingest.contract import ENTITIES, LINEAGE_COLUMNS, Entity

#: the raw tables that are not entity tables, with the column naming the batch a row belongs to
LOAD_TABLES: tuple[tuple[str, str], ...] = (
    ("raw.load_manifest", "batch_id"),
    ("raw.quarantine", "batch_id"),
    ("raw.load_batches", "batch_id"),
)
#: the column of every entity table naming its row's batch
ENTITY_BATCH_COLUMN = "_batch_id"

LOAD_MANIFEST_DDL = """
CREATE TABLE IF NOT EXISTS raw.load_manifest (
    file_path        TEXT      NOT NULL,  -- relative to the landing root: <source>/<day>/<file>
    source           TEXT      NOT NULL,
    entity           TEXT      NOT NULL,
    extract_day      DATE      NOT NULL,
    size_bytes       BIGINT    NOT NULL,
    sha256           TEXT      NOT NULL,
    mtime_ns         BIGINT,              -- file modification time at load; a change triggers a re-hash
    encoding         TEXT,
    rows_read        BIGINT    NOT NULL,
    rows_loaded      BIGINT    NOT NULL,
    rows_quarantined BIGINT    NOT NULL,
    extra_columns    TEXT,                -- comma-separated columns not in the contract (recorded, not fatal)
    batch_id         TEXT      NOT NULL,
    status           TEXT      NOT NULL,  -- loaded | rejected | changed_after_load
                                          -- rejected: rows_* are 0, message names the problem
    message          TEXT,
    loaded_at        TIMESTAMP NOT NULL
)
"""

QUARANTINE_DDL = """
CREATE TABLE IF NOT EXISTS raw.quarantine (
    file_path      TEXT      NOT NULL,
    source         TEXT      NOT NULL,
    entity         TEXT      NOT NULL,
    extract_day    DATE      NOT NULL,
    line_number    BIGINT,              -- null when the whole file was rejected
    column_name    TEXT,
    reason         TEXT      NOT NULL,
    raw_line       TEXT,
    batch_id       TEXT      NOT NULL,
    quarantined_at TIMESTAMP NOT NULL
)
"""

LOAD_BATCHES_DDL = """
CREATE TABLE IF NOT EXISTS raw.load_batches (
    batch_id     TEXT      NOT NULL,      -- <source>:<day>:<run_id>
    source       TEXT      NOT NULL,
    extract_day  DATE      NOT NULL,
    run_id       TEXT      NOT NULL,
    files        INTEGER   NOT NULL,      -- entity files applied (0 for a day with only _SUCCESS)
    loaded_at    TIMESTAMP NOT NULL       -- one row per applied (source, day): the day counts as loaded
)
"""


def portable_type(duckdb_type: str) -> str:
    """The contract's DuckDB type as written in DDL both engines accept (VARCHAR -> TEXT)."""
    return "TEXT" if duckdb_type == "VARCHAR" else duckdb_type


def raw_table_ddl(e: Entity) -> str:
    cols = [f"    {c.name} {portable_type(c.duckdb_type)}" for c in e.columns]
    cols += [f"    {name} {portable_type(typ)}" for name, typ in LINEAGE_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS {e.raw_table} (\n" + ",\n".join(cols) + "\n)"


def raw_tables(sources: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(table, batch column) of every raw table ingest writes: entity tables (of `sources` only, when
    given), manifest, quarantine, batches."""
    wanted = None if sources is None else set(sources)
    return [(e.raw_table, ENTITY_BATCH_COLUMN) for e in ENTITIES if wanted is None or e.source in wanted] + list(
        LOAD_TABLES)


def ensure_raw_schema(con: Any) -> None:
    """Create the raw schema: one table per contract entity, the manifest, the quarantine and the
    applied batches (idempotent; safe on an empty DB so dbt sources always exist). `con`: a warehouse
    `Connection` of any engine, or a DuckDB connection."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for e in ENTITIES:
        con.execute(raw_table_ddl(e))
    con.execute(LOAD_MANIFEST_DDL)
    con.execute(QUARANTINE_DDL)
    con.execute(LOAD_BATCHES_DDL)
