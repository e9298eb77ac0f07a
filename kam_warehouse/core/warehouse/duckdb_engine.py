"""The embedded default: one DuckDB file per warehouse database (build.duckdb, serving.duckdb)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import duckdb

from kam_warehouse.core.warehouse.base import Connection, Cursor, Warehouse, WarehouseError, WarehouseInUse

if TYPE_CHECKING:
    import pyarrow as pa


class DuckDBConnection(Connection):
    engine: ClassVar[str] = "duckdb"
    errors = (duckdb.Error,)
    text_holds_nul: ClassVar[bool] = True

    def __init__(self, warehouse: DuckDBWarehouse, con: duckdb.DuckDBPyConnection) -> None:
        super().__init__(warehouse)
        #: the engine's own connection, for the embedded-only paths (ingest's CSV scan, publish's file copy)
        self.raw = con

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        return self.raw.execute(sql, list(params) if params is not None else None)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.raw.executemany(sql, [list(r) for r in rows])

    def fetch_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        return self.raw.execute(sql, list(params) if params is not None else None).to_arrow_table()

    def fetch_df(self, sql: str, params: Sequence[Any] | None = None):
        return self.raw.execute(sql, list(params) if params is not None else None).df()

    def fetch_text(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        import pyarrow as pa

        data = self.fetch_arrow(sql, params)
        return pa.table([c.cast(pa.string()) for c in data.columns], names=data.column_names)

    def bulk_load(self, table: str, data: pa.Table, *, columns: Sequence[str] | None = None) -> int:
        names = list(columns or data.column_names)
        quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in names)
        view = "_kam_bulk_load"
        self.raw.register(view, data)
        try:
            self.raw.execute(f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM {view}")
        finally:
            self.raw.unregister(view)
        return data.num_rows

    def begin(self) -> None:
        self.raw.begin()

    def commit(self) -> None:
        self.raw.commit()

    def rollback(self) -> None:
        self.raw.rollback()

    def comments(self, schema: str, name: str) -> tuple[str | None, dict[str, str]]:
        relation = self.raw.execute(
            "SELECT comment FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ? "
            "AND table_name = ? UNION ALL SELECT comment FROM duckdb_views() WHERE database_name = "
            "current_database() AND schema_name = ? AND view_name = ?", [schema, name, schema, name]).fetchone()
        columns = dict(self.raw.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = ? AND table_name = ? AND comment IS NOT NULL AND comment <> ''",
            [schema, name]).fetchall())
        return (relation[0] if relation else None), columns

    def epoch_seconds(self, expression: str) -> str:
        return f"epoch({expression})"

    def number_text(self, expression: str, decimals: int | None = None) -> str:
        if decimals is None:
            return f"format('{{:g}}', CAST({expression} AS DOUBLE))"
        return f"printf('%.{int(decimals)}f', CAST({expression} AS DOUBLE))"

    def close(self) -> None:
        self.raw.close()


@dataclass(frozen=True)
class DuckDBWarehouse(Warehouse):
    path: Path
    engine: ClassVar[str] = "duckdb"

    def connect(self, *, read_only: bool = False) -> DuckDBConnection:
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            if _LOCK_CONFLICT in str(exc):
                raise _in_use(self.path, exc) from exc
            raise WarehouseError(f"cannot open the warehouse {self.path}: {exc}") from exc
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open the warehouse {self.path}: {exc}") from exc
        return DuckDBConnection(self, con)

    def exists(self) -> bool:
        return self.path.exists()

    def describe(self) -> str:
        return str(self.path)

    def dbt_environment(self) -> dict[str, str]:
        return {"KAM_DBT_TARGET": "duckdb", "KAM_BUILD_DB": str(self.path)}

    def sqlalchemy_url(self) -> str:
        return f"duckdb:///{self.path}"

    def compact(self) -> tuple[int, int]:
        if not self.path.exists():
            return 0, 0
        before = self.path.stat().st_size
        with self.connect() as con:
            con.execute("FORCE CHECKPOINT")
        return before, self.path.stat().st_size

    def sqlalchemy_connect_args(self, *, read_only: bool = False) -> dict[str, Any]:
        return {"read_only": True} if read_only else {}


#: DuckDB's message when another process has the file open for writing
_LOCK_CONFLICT = "Could not set lock"
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<exe>.*?) \(PID (?P<pid>\d+)\)")
_LOCKED_FILE = re.compile(r'Could not set lock on file "(?P<file>[^"]+)"')


def in_use_error(exc: BaseException) -> WarehouseInUse | None:
    """DuckDB's "Could not set lock on file" (raised by code that opened a file itself) as WarehouseInUse."""
    if not isinstance(exc, duckdb.IOException) or _LOCK_CONFLICT not in str(exc):
        return None
    file = _LOCKED_FILE.search(str(exc))
    return _in_use(Path(file["file"]) if file else None, exc)


def _in_use(path: Path | None, exc: duckdb.Error) -> WarehouseInUse:
    holder = _LOCK_HOLDER.search(str(exc))
    return WarehouseInUse(
        f"the warehouse {path or '(file)'} is in use: {' '.join(str(exc).split())}", path=path,
        holder_pid=int(holder["pid"]) if holder else None, holder=holder["exe"] if holder else None)
