"""The as-of date of the build warehouse: the latest complete extract day loaded (raw.load_manifest).

Its own module so the pipeline steps and the serving side (publish, close) both read it without
importing each other.
"""

from __future__ import annotations

from datetime import date

from kam_warehouse.core.warehouse import Connection, WarehouseTarget, as_warehouse, connect


def as_of_date(target: WarehouseTarget) -> date | None:
    """The as-of date: the latest complete extract day loaded into the build warehouse."""
    if not as_warehouse(target).exists():
        return None
    with connect(target, read_only=True) as con:
        return as_of_in(con)


def as_of_in(con: Connection) -> date | None:
    """The same on an open connection (e.g. inside a command that also reads or writes the tier state)."""
    if not con.has_relation("raw", "load_manifest"):
        return None
    row = con.execute("SELECT max(extract_day) FROM raw.load_manifest WHERE status = 'loaded'").fetchone()
    return row[0] if row else None
