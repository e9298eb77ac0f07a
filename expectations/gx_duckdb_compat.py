"""Workaround: make Great Expectations keep its SQL connection open for DuckDB.

Why: GX 1.x (checked on 1.10–1.24) opens a connection, runs a metric query and closes the connection
before the result is fetched for every dialect except those listed in
`sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS` (SQLite, SQL Server, BigQuery, Databricks).
Closing a duckdb-engine connection rolls back and drops the pending result, so every expectation fails
with `MetricResolutionError: list index out of range`. Listing DuckDB there makes GX reuse one
connection per execution engine, which is how it already works for SQLite.

The tuple holds `GXSqlDialect` members; GX compares them with `.value` (URL prefix check) and `==`
against the engine's dialect name (a str). `_DuckDBDialect` is a str that also has `.value`.

tests/expectations/test_gx_duckdb_compat.py fails when GX renames or restructures this list, or when
GX starts listing DuckDB itself (then delete this module).

`apply_for(url)` is what the gate calls with the warehouse's SQLAlchemy URL: it applies the workaround
only for the DuckDB dialect (PostgreSQL needs none). This is the one place the dialect is looked at.
"""

from __future__ import annotations

DUCKDB_DIALECT = "duckdb"


class _DuckDBDialect(str):
    """A str usable where GX expects a `GXSqlDialect` member of `_PERSISTED_CONNECTION_DIALECTS`."""

    @property
    def value(self) -> str:
        return str(self)


def gx_persists_duckdb_connections() -> bool:
    """True when GX keeps DuckDB connections open (after `apply()` or natively)."""
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine_module

    return any(d == DUCKDB_DIALECT for d in engine_module._PERSISTED_CONNECTION_DIALECTS)


def dialect_of(sqlalchemy_url: str) -> str:
    """The dialect of a SQLAlchemy URL: `duckdb:///x` -> duckdb, `postgresql+psycopg2://...` -> postgresql."""
    return sqlalchemy_url.partition(":")[0].partition("+")[0].lower()


def apply_for(sqlalchemy_url: str) -> bool:
    """Apply the workaround when `sqlalchemy_url` is DuckDB's; True when it applies to that URL."""
    if dialect_of(sqlalchemy_url) != DUCKDB_DIALECT:
        return False
    apply()
    return True


def apply() -> None:
    """Add DuckDB to GX's persisted-connection dialects (idempotent)."""
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine_module

    if gx_persists_duckdb_connections():
        return
    engine_module._PERSISTED_CONNECTION_DIALECTS = (  # type: ignore[assignment]
        *engine_module._PERSISTED_CONNECTION_DIALECTS,
        _DuckDBDialect(DUCKDB_DIALECT),
    )
