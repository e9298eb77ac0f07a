"""Which publisher a warehouse has: the engine's schema publisher, or None for the embedded engine
(published by file, kam_warehouse.serving.publish). The one place that picks a publisher by engine."""

from __future__ import annotations

from kam_warehouse.core.warehouse.base import Warehouse
from kam_warehouse.core.warehouse.publishing import SchemaPublisher


def schema_publisher(build: Warehouse, serving: Warehouse) -> SchemaPublisher | None:
    """The schema publisher of a server warehouse, or None for the embedded engine (published by file)."""
    from kam_warehouse.core.warehouse.postgres_engine import PostgresWarehouse

    if isinstance(serving, PostgresWarehouse) and isinstance(build, PostgresWarehouse):
        from kam_warehouse.core.warehouse.postgres_publish import PostgresPublisher

        return PostgresPublisher(build, serving)
    return None
