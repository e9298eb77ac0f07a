"""Write and audit one build file: every table and view of `marts` and `ops` of the build warehouse,
materialised as tables in a new DuckDB file (the embedded engine's code: kam_warehouse.core.warehouse.
file_builds; here its failures become PublishError and its loop reaches the fault points)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kam_warehouse.core.warehouse import WarehouseError
from kam_warehouse.core.warehouse import file_builds as files
from kam_warehouse.core.warehouse.publishing import (
    PUBLISH_INFO_COLUMNS,
    PUBLISH_INFO_DOC,
    PUBLISHED_SCHEMAS,
    RUN_LOG_COLUMNS,
)
from kam_warehouse.faults import fault_point
from kam_warehouse.serving.errors import PublishError

__all__ = ["PUBLISHED_SCHEMAS", "PUBLISH_INFO_COLUMNS", "PUBLISH_INFO_DOC", "RUN_LOG_COLUMNS", "audit_build_file",
           "mart_tables", "write_build_file"]


def write_build_file(build_db: Path, target: Path, *, run_id: str, as_of: date | None) -> dict[str, int]:
    """Materialise marts.* and ops.* of `build_db` into the new file `target`; return rows per table."""
    try:
        return files.write_build_file(build_db, target, run_id=run_id, as_of=as_of,
                                      on_table=lambda _name: fault_point("publish:table_copied"))
    except WarehouseError as exc:
        raise PublishError(str(exc)) from exc


def audit_build_file(target: Path, expected: dict[str, int], *, run_id: str) -> None:
    """Reopen the written file read-only and check every table is there with the source's row count."""
    try:
        files.audit_build_file(target, expected, run_id=run_id)
    except WarehouseError as exc:
        raise PublishError(str(exc)) from exc


def mart_tables(db_file: Path) -> list[str]:
    """Names of the tables of schema `marts` in a published file."""
    return files.mart_tables(db_file)
