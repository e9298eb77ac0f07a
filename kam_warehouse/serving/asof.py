"""The as-of date of a build warehouse on any engine (kam_warehouse.asof's query on an interface connection)."""

from __future__ import annotations

from datetime import date

from kam_warehouse.core.warehouse import WarehouseTarget, as_warehouse, connect


def as_of(target: WarehouseTarget) -> date | None:
    """The latest complete extract day loaded into the build warehouse `target`; None before any load."""
    from kam_warehouse.asof import as_of_in

    if not as_warehouse(target).exists():
        return None
    with connect(target, read_only=True) as con:
        return as_of_in(con)  # type: ignore[arg-type]  # portable SQL: information_schema and max()
