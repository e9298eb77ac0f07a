"""KAM_WAREHOUSE_URL -> the build and serving warehouses (the one switch between engines)."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from kam_warehouse.core.errors import ConfigError
from kam_warehouse.core.warehouse.base import (
    Connection,
    Warehouse,
    WarehouseError,
    WarehouseInUse,
    WarehouseTarget,
)

URL_ENV = "KAM_WAREHOUSE_URL"
#: the build database on PostgreSQL is the serving database's name + this
BUILD_SUFFIX = "_build"


@dataclass(frozen=True)
class Location:
    """Where the nightly builds (build) and what readers see (serving)."""

    engine: str
    build: Warehouse
    serving: Warehouse
    url: str  # as configured, without a password


def locate(url: str | None, warehouse_dir: Path) -> Location:
    """Parse KAM_WAREHOUSE_URL. Empty or `duckdb:` (optionally `duckdb:///<dir>`): the embedded files
    under `warehouse_dir` (or <dir>). `postgresql://user@host:port/db`: serving database `db`, build
    database `db_build`, same server and role."""
    from kam_warehouse.core.warehouse.duckdb_engine import DuckDBWarehouse

    text = (url or "").strip()
    if not text or text in ("duckdb", "duckdb:", "duckdb://"):
        return Location("duckdb", DuckDBWarehouse(warehouse_dir / "build.duckdb"),
                        DuckDBWarehouse(warehouse_dir / "serving.duckdb"), "duckdb:")
    parts = urlsplit(text)
    if parts.scheme == "duckdb":
        root = Path(unquote(parts.path)).expanduser().resolve() if parts.path not in ("", "/") else warehouse_dir
        return Location("duckdb", DuckDBWarehouse(root / "build.duckdb"), DuckDBWarehouse(root / "serving.duckdb"),
                        f"duckdb://{parts.path}")
    if parts.scheme in ("postgresql", "postgres", "postgresql+psycopg2"):
        return _postgres(text, parts)
    raise ConfigError(f"{URL_ENV}={_redacted(text)}: unknown engine {parts.scheme!r}; use duckdb: (the default, "
                      "embedded files under KAM_WAREHOUSE_DIR) or postgresql://user@host:port/database")


def _postgres(text: str, parts) -> Location:
    from kam_warehouse.core.warehouse.postgres_engine import PostgresWarehouse

    if parts.password:
        raise ConfigError(f"{URL_ENV}={_redacted(text)}: do not put the password in the URL (it ends up in logs "
                          "and process lists); set PGPASSWORD or use a pgpass file (PGPASSFILE, ~/.pgpass)")
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise ConfigError(f"{URL_ENV}={text}: name the serving database, e.g. postgresql://kam@db:5432/kam")
    try:
        port = parts.port or 5432
    except ValueError as exc:
        raise ConfigError(f"{URL_ENV}={text}: the port is not a number") from exc
    host = parts.hostname or os.environ.get("PGHOST", "127.0.0.1")
    user = unquote(parts.username) if parts.username else os.environ.get("PGUSER") or getpass.getuser()
    serving = PostgresWarehouse(host=host, port=port, user=user, database=database)
    build = PostgresWarehouse(host=host, port=port, user=user, database=database + BUILD_SUFFIX)
    return Location("postgresql", build, serving, serving.describe())


def _redacted(text: str) -> str:
    parts = urlsplit(text)
    if parts.password:
        return text.replace(f":{parts.password}@", ":***@")
    return text


def as_warehouse(target: WarehouseTarget) -> Warehouse:
    """A Warehouse as is; a path (str or Path) is the embedded DuckDB file there."""
    if isinstance(target, Warehouse):
        return target
    from kam_warehouse.core.warehouse.duckdb_engine import DuckDBWarehouse

    return DuckDBWarehouse(Path(target))


def engine_errors() -> tuple[type[BaseException], ...]:
    """Every engine's own exception classes (a failed statement): `except engine_errors()` where no
    connection is at hand (e.g. the command line's last resort); with one, use `con.errors`."""
    from kam_warehouse.core.warehouse.duckdb_engine import DuckDBConnection
    from kam_warehouse.core.warehouse.postgres_engine import PostgresConnection

    return (*DuckDBConnection.errors, *PostgresConnection.errors)


def in_use(exc: BaseException) -> WarehouseInUse | None:
    """`exc` as WarehouseInUse when it says another process holds the warehouse (also an engine's own
    error raised by code that opened an embedded file itself); None otherwise."""
    if isinstance(exc, WarehouseInUse):
        return exc
    from kam_warehouse.core.warehouse.duckdb_engine import in_use_error

    return in_use_error(exc)


def transient(exc: BaseException) -> bool:
    """Whether a warehouse error is worth retrying: another process holds the warehouse, the server
    cannot be reached or dropped the connection (restarting, failing over). A failed statement is not."""
    if in_use(exc) is not None:
        return True
    from kam_warehouse.core.warehouse.postgres_engine import connection_lost

    cause = exc.__cause__ if isinstance(exc, WarehouseError) else exc
    return cause is not None and connection_lost(cause)


def connect(target: WarehouseTarget, *, read_only: bool = False) -> Connection:
    """Open `target` (a Warehouse or the path of an embedded DuckDB file)."""
    return as_warehouse(target).connect(read_only=read_only)
