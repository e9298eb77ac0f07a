"""The read-only BI role of a server warehouse: `kam warehouse grant-reader ROLE`.

On PostgreSQL a reader role gets CONNECT on the serving database, USAGE and SELECT on `marts` and `ops`
and on every kept build's schemas (rollback targets), and is recorded in kam_publish.readers so every
later publish grants it on the new schemas before the swap (grants belong to the tables, so they
survive the renames). It gets nothing else: no INSERT/UPDATE/DELETE, no CREATE in any schema, and no
access to the build database. docs/bi.md and scripts/postgres-reader-role.sql show the whole set-up
(a NOLOGIN group role, BI logins as its members).

On the embedded DuckDB warehouse there are no roles: readers get serving.duckdb and parquet/ through
the serving group (KAM_SERVING_GROUP, kam_warehouse.permissions).
"""

from __future__ import annotations

from kam_warehouse.core.warehouse.publisher import schema_publisher
from kam_warehouse.errors import ConfigError
from kam_warehouse.settings import Settings


def grant_reader(settings: Settings, role: str, *, create: bool = False) -> list[str]:
    """Make `role` a read-only reader of the serving warehouse, now and at every publish; return the
    schemas granted (see module docstring)."""
    publisher = schema_publisher(settings.build, settings.serving)
    if publisher is None:
        raise ConfigError(
            f"the serving warehouse {settings.serving.describe()} is an embedded file: it has no roles. Readers get "
            "read access through the serving group (KAM_SERVING_GROUP, docs/bi.md); set KAM_WAREHOUSE_URL to a "
            "PostgreSQL warehouse for reader roles")
    return publisher.grant_reader(role, create=create)


def reader_roles(settings: Settings) -> list[str]:
    """The roles every publish grants (none on the embedded warehouse)."""
    publisher = schema_publisher(settings.build, settings.serving)
    return publisher.readers() if publisher is not None else []
