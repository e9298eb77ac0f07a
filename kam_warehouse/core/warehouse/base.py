"""The engine-neutral surface: a `Warehouse` (where one database lives) and its `Connection`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeAlias

from kam_warehouse.core.errors import KamError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


class WarehouseError(KamError):
    """A warehouse could not be opened or a statement failed; the message names the warehouse."""


class WarehouseInUse(WarehouseError):
    """Another process has the warehouse open for writing and the engine lets no one else open it (an
    embedded DuckDB file's lock). `path` is the file, `holder_pid` / `holder` the process when known."""

    def __init__(self, message: str, *, path: Path | None = None, holder_pid: int | None = None,
                 holder: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.holder_pid = holder_pid
        self.holder = holder


class Cursor(Protocol):
    """What `Connection.execute` returns: the rows of the statement (if any)."""

    @property
    def description(self) -> Any: ...
    def fetchone(self) -> tuple | None: ...
    def fetchall(self) -> list[tuple]: ...


class Connection(ABC):
    """An open connection to one warehouse database. Statements autocommit unless inside `transaction()`
    (or between `begin()` and `commit()`/`rollback()`)."""

    engine: ClassVar[str]
    #: the engine's own errors (duckdb.Error, psycopg2.Error): catch these, never an engine's class
    errors: tuple[type[BaseException], ...] = ()
    #: a text value may hold the NUL character (DuckDB: yes; PostgreSQL's text cannot)
    text_holds_nul: ClassVar[bool] = True

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    # --- statements
    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        """Run one statement with `?` placeholders; return its rows."""

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        for row in rows:
            self.execute(sql, row)

    def fetch_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        import pyarrow as pa

        cur = self.execute(sql, params)
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})

    def fetch_df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        import pandas as pd

        cur = self.execute(sql, params)
        return pd.DataFrame.from_records(cur.fetchall(), columns=[d[0] for d in cur.description])

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = self.execute(sql, params).fetchone()
        return row[0] if row else None

    @abstractmethod
    def bulk_load(self, table: str, data: pa.Table, *, columns: Sequence[str] | None = None) -> int:
        """Append the rows of `data` to `table` (columns by name: `columns` or all of `data`'s); return
        the row count. Uses the engine's bulk path (an Arrow scan on DuckDB, COPY on PostgreSQL)."""

    @abstractmethod
    def fetch_text(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """The rows of a query with every column as text (NULL stays NULL, '' stays ''), by the engine's
        bulk path (COPY ... TO STDOUT on PostgreSQL): for moving many rows to another engine, which
        casts the text back to its column types (`bulk_load` into a typed table)."""

    # --- transactions
    @abstractmethod
    def begin(self) -> None: ...
    @abstractmethod
    def commit(self) -> None: ...
    @abstractmethod
    def rollback(self) -> None: ...

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        self.begin()
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit()

    # --- catalog (engine-specific SQL lives in the implementations)
    def relations(self, schema: str) -> list[tuple[str, str]]:
        """(name, 'table' | 'view') of every relation in `schema`, tables first, by name."""
        rows = self.execute(
            "SELECT table_name, CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind "
            "FROM information_schema.tables WHERE table_schema = ? AND table_catalog = current_database() "
            "ORDER BY kind, table_name", [schema]).fetchall()
        return [(r[0], r[1]) for r in rows]

    def has_relation(self, schema: str, name: str) -> bool:
        return any(n == name for n, _ in self.relations(schema))

    def columns(self, schema: str, name: str) -> list[tuple[str, str]]:
        """(column, data type) of a relation, in order; [] when it does not exist."""
        rows = self.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
            "AND table_name = ? AND table_catalog = current_database() ORDER BY ordinal_position",
            [schema, name]).fetchall()
        return [(r[0], r[1]) for r in rows]

    @abstractmethod
    def comments(self, schema: str, name: str) -> tuple[str | None, dict[str, str]]:
        """The relation's comment and its columns' non-empty comments."""

    @abstractmethod
    def epoch_seconds(self, expression: str) -> str:
        """SQL for the seconds in an INTERVAL (or between two timestamps: `a - b`) as a float."""

    @abstractmethod
    def number_text(self, expression: str, decimals: int | None = None) -> str:
        """SQL for a number as text, the same on every engine: with `decimals`, fixed-point rounded as
        printf's `%.<decimals>f` (`62.25` -> `62.2`, `8` -> `8.0`); without, the shortest form for up
        to 6 significant digits as `%g` (`60`, `62.5`; longer values may keep more digits)."""

    # --- lifetime
    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Warehouse(ABC):
    """Where one warehouse database lives (an embedded file, a PostgreSQL database)."""

    engine: ClassVar[str]

    @abstractmethod
    def connect(self, *, read_only: bool = False) -> Connection:
        """Open it; a writable connection creates the database if it does not exist yet (DuckDB)."""

    @abstractmethod
    def exists(self) -> bool:
        """Whether the database exists (nothing is created)."""

    @abstractmethod
    def describe(self) -> str:
        """Where it is, for messages (never a password)."""

    @abstractmethod
    def dbt_environment(self) -> dict[str, str]:
        """Environment for the dbt profile (dbt_project/profiles.yml) to build into this database."""

    @abstractmethod
    def sqlalchemy_url(self) -> str:
        """A SQLAlchemy URL (Great Expectations' SQL datasource), without a password."""

    @abstractmethod
    def sqlalchemy_connect_args(self, *, read_only: bool = False) -> dict[str, Any]:
        """`connect_args` for a SQLAlchemy engine on `sqlalchemy_url()` (read-only when asked)."""

    @abstractmethod
    def compact(self) -> tuple[int, int]:
        """Routine maintenance outside a night (DuckDB: FORCE CHECKPOINT, merging the WAL and reclaiming free
        blocks; PostgreSQL: VACUUM ANALYZE); returns the database's size in bytes before and after."""

    def __str__(self) -> str:
        return self.describe()


#: what the steps accept: a Warehouse, or the path of an embedded DuckDB file
WarehouseTarget: TypeAlias = "Warehouse | Path | str"
