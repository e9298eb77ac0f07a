"""A warehouse database on a PostgreSQL server (psycopg2, the driver dbt-postgres uses)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from kam_warehouse.core.warehouse.base import Connection, Cursor, Warehouse, WarehouseError
from kam_warehouse.core.warehouse.sql import qmark_to_format

if TYPE_CHECKING:
    import pyarrow as pa

#: ties in rankings order by bytes, as on DuckDB and Spark (docs/scale-out.md)
CREATE_DATABASE = "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresConnection(Connection):
    engine: ClassVar[str] = "postgresql"
    errors = (psycopg2.Error,)
    text_holds_nul: ClassVar[bool] = False

    def __init__(self, warehouse: PostgresWarehouse, con: psycopg2.extensions.connection) -> None:
        super().__init__(warehouse)
        self.raw = con
        self._in_transaction = False

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        cur = self.raw.cursor()
        try:
            cur.execute(qmark_to_format(sql), tuple(params or ()))
        except psycopg2.Error:
            cur.close()
            raise
        return cur

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self.raw.cursor() as cur:
                cur.executemany(qmark_to_format(sql), [tuple(r) for r in rows])

    def bulk_load(self, table: str, data: pa.Table, *, columns: Sequence[str] | None = None) -> int:
        """COPY ... FROM STDIN in CSV written by Arrow: every value quoted, NULL an unquoted empty field (so
        an empty string stays an empty string)."""
        import pyarrow.csv as pacsv

        names = list(columns or data.column_names)
        buffer = io.BytesIO()
        pacsv.write_csv(data.select(names), buffer,
                        pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
        buffer.seek(0)
        quoted = ", ".join(_ident(c) for c in names)
        with self.raw.cursor() as cur:
            cur.copy_expert(f"COPY {table} ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '')", buffer)
        return data.num_rows

    def fetch_text(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """COPY (query) TO STDOUT in CSV, read by Arrow with every column a string: NULL is PostgreSQL's
        unquoted empty field, '' its quoted one."""
        import pyarrow as pa
        import pyarrow.csv as pacsv

        with self.raw.cursor() as cur:
            query = cur.mogrify(qmark_to_format(sql), tuple(params or ())).decode()
            cur.execute(f"SELECT * FROM ({query}) _kam_fetch_text LIMIT 0")
            names = [d[0] for d in cur.description]
            buffer = io.BytesIO()
            cur.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", buffer)
        if not buffer.getbuffer().nbytes:
            return pa.table({n: pa.array([], pa.string()) for n in names})
        buffer.seek(0)
        return pacsv.read_csv(buffer, pacsv.ReadOptions(column_names=names),
                              pacsv.ParseOptions(newlines_in_values=True),
                              pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                   strings_can_be_null=True, quoted_strings_can_be_null=False))

    def begin(self) -> None:
        self.raw.cursor().execute("BEGIN")
        self._in_transaction = True

    def commit(self) -> None:
        self.raw.cursor().execute("COMMIT")
        self._in_transaction = False

    def rollback(self) -> None:
        self.raw.cursor().execute("ROLLBACK")
        self._in_transaction = False

    def comments(self, schema: str, name: str) -> tuple[str | None, dict[str, str]]:
        relation = self.execute(
            "SELECT obj_description(c.oid, 'pg_class') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ? AND c.relname = ?", [schema, name]).fetchone()
        columns = dict(self.execute(
            "SELECT a.attname, col_description(c.oid, a.attnum) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid "
            "WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped "
            "AND coalesce(col_description(c.oid, a.attnum), '') <> ''", [schema, name]).fetchall())
        return (relation[0] if relation else None), columns

    def epoch_seconds(self, expression: str) -> str:
        return f"extract(epoch FROM {expression})::double precision"

    def number_text(self, expression: str, decimals: int | None = None) -> str:
        if decimals is None:  # float8 output is the shortest exact form (PostgreSQL >= 12): %g up to 6 digits
            return f"CAST(CAST({expression} AS double precision) AS text)"
        # to_char on float8 rounds with the C library's printf, as DuckDB's printf and Python do
        fraction = "." + "0" * int(decimals) if decimals else ""
        return f"to_char(CAST({expression} AS double precision), 'FM{'9' * 14}0{fraction}')"

    def close(self) -> None:
        self.raw.close()


def connection_lost(exc: BaseException) -> bool:
    """The server could not be reached or dropped the connection (not a failed statement)."""
    return isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError) and not isinstance(
        exc, psycopg2.errors.QueryCanceled)


@dataclass(frozen=True)
class PostgresWarehouse(Warehouse):
    """One database on a PostgreSQL server. The password is never part of this object: libpq reads
    PGPASSWORD or the pgpass file (PGPASSFILE, ~/.pgpass)."""

    host: str
    port: int
    user: str
    database: str
    engine: ClassVar[str] = "postgresql"

    def dsn(self, database: str | None = None) -> str:
        return (f"host={self.host} port={self.port} user={self.user} dbname={database or self.database} "
                "application_name=kam_warehouse")

    def connect(self, *, read_only: bool = False) -> PostgresConnection:
        try:
            con = psycopg2.connect(self.dsn())
        except psycopg2.OperationalError as exc:
            raise WarehouseError(f"cannot connect to the warehouse {self.describe()}: {str(exc).strip()}") from exc
        con.autocommit = True
        if read_only:
            con.cursor().execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        con.cursor().execute("SET TIME ZONE 'UTC'")
        return PostgresConnection(self, con)

    def exists(self) -> bool:
        with closing(self._maintenance()) as con, con.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
            return cur.fetchone() is not None

    def create(self) -> bool:
        """Create the database (C collation) if it does not exist; True when it was created."""
        if self.exists():
            return False
        with closing(self._maintenance()) as con, con.cursor() as cur:
            cur.execute(CREATE_DATABASE.format(name=_ident(self.database)))
        return True

    def _maintenance(self) -> psycopg2.extensions.connection:
        try:
            con = psycopg2.connect(self.dsn("postgres"))
        except psycopg2.OperationalError as exc:
            raise WarehouseError(f"cannot connect to the PostgreSQL server of {self.describe()}: "
                                 f"{str(exc).strip()}") from exc
        con.autocommit = True
        return con

    def describe(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    def dbt_environment(self) -> dict[str, str]:
        import os

        env = {"KAM_DBT_TARGET": "postgres", "KAM_PG_HOST": self.host, "KAM_PG_PORT": str(self.port),
               "KAM_PG_USER": self.user, "KAM_PG_DATABASE": self.database}
        if os.environ.get("PGPASSWORD"):
            env["KAM_PG_PASSWORD"] = os.environ["PGPASSWORD"]
        return env

    def sqlalchemy_url(self) -> str:
        return f"postgresql+psycopg2://{self.user}@{self.host}:{self.port}/{self.database}"

    def compact(self) -> tuple[int, int]:
        if not self.exists():
            return 0, 0
        size = "SELECT pg_database_size(current_database())"
        with self.connect() as con:  # autocommit: VACUUM cannot run inside a transaction
            before = int(con.scalar(size))
            con.execute("VACUUM (ANALYZE)")
            return before, int(con.scalar(size))

    def sqlalchemy_connect_args(self, *, read_only: bool = False) -> dict[str, Any]:
        options = "-c TimeZone=UTC" + (" -c default_transaction_read_only=on" if read_only else "")
        return {"options": options, "application_name": "kam_warehouse"}
