"""DDL of the `raw` schema, generated from the extract contract (ingest.contract)."""

from __future__ import annotations

import duckdb

from ingest.contract import ENTITIES, LINEAGE_COLUMNS, Entity

LOAD_MANIFEST_DDL = """
CREATE TABLE IF NOT EXISTS raw.load_manifest (
    file_path        VARCHAR   NOT NULL,  -- relative to the landing root: <source>/<day>/<file>
    source           VARCHAR   NOT NULL,
    entity           VARCHAR   NOT NULL,
    extract_day      DATE      NOT NULL,
    size_bytes       BIGINT    NOT NULL,
    sha256           VARCHAR   NOT NULL,
    mtime_ns         BIGINT,              -- file modification time at load; a change triggers a re-hash
    encoding         VARCHAR,
    rows_read        BIGINT    NOT NULL,
    rows_loaded      BIGINT    NOT NULL,
    rows_quarantined BIGINT    NOT NULL,
    extra_columns    VARCHAR,             -- comma-separated columns not in the contract (recorded, not fatal)
    batch_id         VARCHAR   NOT NULL,
    status           VARCHAR   NOT NULL,  -- loaded | rejected | changed_after_load
                                          -- rejected: rows_* are 0, message names the problem
    message          VARCHAR,
    loaded_at        TIMESTAMP NOT NULL
)
"""

QUARANTINE_DDL = """
CREATE TABLE IF NOT EXISTS raw.quarantine (
    file_path      VARCHAR   NOT NULL,
    source         VARCHAR   NOT NULL,
    entity         VARCHAR   NOT NULL,
    extract_day    DATE      NOT NULL,
    line_number    BIGINT,              -- null when the whole file was rejected
    column_name    VARCHAR,
    reason         VARCHAR   NOT NULL,
    raw_line       VARCHAR,
    batch_id       VARCHAR   NOT NULL,
    quarantined_at TIMESTAMP NOT NULL
)
"""

LOAD_BATCHES_DDL = """
CREATE TABLE IF NOT EXISTS raw.load_batches (
    batch_id     VARCHAR   NOT NULL,      -- <source>:<day>:<run_id>
    source       VARCHAR   NOT NULL,
    extract_day  DATE      NOT NULL,
    run_id       VARCHAR   NOT NULL,
    files        INTEGER   NOT NULL,      -- entity files applied (0 for a day with only _SUCCESS)
    loaded_at    TIMESTAMP NOT NULL       -- one row per applied (source, day): the day counts as loaded
)
"""


def raw_table_ddl(e: Entity) -> str:
    cols = [f"    {c.name} {c.duckdb_type}" for c in e.columns]
    cols += [f"    {name} {typ}" for name, typ in LINEAGE_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS {e.raw_table} (\n" + ",\n".join(cols) + "\n)"


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema: one table per contract entity, the manifest, the quarantine and the
    applied batches (idempotent; safe on an empty DB so dbt sources always exist)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for e in ENTITIES:
        con.execute(raw_table_ddl(e))
    con.execute(LOAD_MANIFEST_DDL)
    con.execute(QUARANTINE_DDL)
    con.execute(LOAD_BATCHES_DDL)
