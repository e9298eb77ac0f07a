"""The as-of date of the build warehouse: the latest complete extract day loaded (raw.load_manifest).

Its own module so the pipeline steps and the serving side (publish, close) both read it without
importing each other.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb


def as_of_date(db_path: Path) -> date | None:
    """The as-of date: the latest complete extract day loaded into the build warehouse."""
    if not db_path.exists():
        return None
    with duckdb.connect(str(db_path), read_only=True) as con:
        return as_of_in(con)


def as_of_in(con: duckdb.DuckDBPyConnection) -> date | None:
    """The same on an open connection (e.g. inside a command that also reads or writes the tier state)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema='raw' AND table_name='load_manifest'"
    ).fetchone()
    if not exists or not exists[0]:
        return None
    row = con.execute("SELECT max(extract_day) FROM raw.load_manifest WHERE status = 'loaded'").fetchone()
    return row[0] if row else None
