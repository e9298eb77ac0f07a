"""One warehouse interface for every step that opens the warehouse: ingest, the gate, tiers, the run
log, close, publish and the report. Nothing outside this package names an engine.

    from kam_warehouse.core.warehouse import connect, Warehouse

    with connect(settings.build) as con:            # a Warehouse, or a Path to an embedded DuckDB file
        con.execute("INSERT INTO ops.t VALUES (?, ?)", [1, "a"])
        rows = con.execute("SELECT * FROM ops.t").fetchall()
        with con.transaction():
            con.bulk_load("raw.x", arrow_table)      # COPY on PostgreSQL

Engines (chosen by one setting, KAM_WAREHOUSE_URL; see `locate`):
- `duckdb` (default): the embedded files `build.duckdb` and `serving.duckdb` under KAM_WAREHOUSE_DIR;
- `postgresql://user@host:port/db`: the serving database `db` (what BI reads: schemas marts, ops) and
  the build database `db_build` beside it (raw, staging, intermediate, marts, ops of the night being
  built). The password comes from PGPASSWORD or a pgpass file, never from the URL in docs.

SQL written against a `Connection` uses `?` placeholders and the subset both engines share
(information_schema, COMMENT ON, CREATE ... IF NOT EXISTS, DOUBLE PRECISION, TIMESTAMP); where the
engines differ the connection has a method (`relations`, `columns`, `comments`, `bulk_load`,
`epoch_seconds`).
"""

from kam_warehouse.core.warehouse.base import (
    Connection,
    Cursor,
    Warehouse,
    WarehouseError,
    WarehouseInUse,
    WarehouseTarget,
)
from kam_warehouse.core.warehouse.locate import (
    Location,
    as_warehouse,
    connect,
    engine_errors,
    in_use,
    locate,
    transient,
)

__all__ = [
    "Connection", "Cursor", "Location", "Warehouse", "WarehouseError", "WarehouseInUse", "WarehouseTarget",
    "as_warehouse", "connect", "engine_errors", "in_use", "locate", "transient",
]
