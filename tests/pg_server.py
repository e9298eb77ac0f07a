"""A throw-away PostgreSQL server on loopback for tests (dbt on PostgreSQL, Airflow metadata, the warehouse).

Debian's server binaries (`/usr/lib/postgresql/<major>/bin`, installed by `scripts/ensure-sysdeps.sh`)
run a fresh cluster in a temp folder on a free port with trust auth for one superuser. As root, initdb
refuses to run, so the cluster is created and started as the `postgres` system user.

Use the `postgres_server` fixture (session scope, in tests/conftest.py) or `PostgresServer.start()`.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "kam"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (run `make sysdeps`)."""


def server_bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        raise PostgresUnavailable(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: run `make sysdeps` "
            "(installs Debian's postgresql package)"
        )
    return Path(candidates[0]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class PostgresServer:
    root: Path
    port: int
    bin_dir: Path
    superuser: str = SUPERUSER

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def user(self) -> str:
        return self.superuser

    def url(self, database: str = "postgres", driver: str = "") -> str:
        """SQLAlchemy/libpq URL; driver e.g. 'psycopg2' gives postgresql+psycopg2://..."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{self.superuser}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        out = subprocess.run(
            [str(self.bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.superuser,
             "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
            check=True, capture_output=True, text=True,
        )
        return out.stdout

    def create_database(self, name: str) -> str:
        """Create (drop first if present) a database; returns its libpq URL."""
        self.psql(f'drop database if exists "{name}" with (force)')
        self.psql(f'create database "{name}"')
        return self.url(name)

    def create_warehouse(self, name: str) -> str:
        """Fresh, empty serving and build databases (`name`, `name_build`; C collation, as the warehouse
        needs); returns the KAM_WAREHOUSE_URL that names them."""
        for database in (name, name + "_build"):
            self.psql(f'drop database if exists "{database}" with (force)')
            self.psql(f"create database \"{database}\" template template0 lc_collate 'C' lc_ctype 'C'")
        return f"postgresql://{self.user}@{self.host}:{self.port}/{name}"

    @classmethod
    def start(cls, superuser: str = SUPERUSER) -> PostgresServer:
        bin_dir = server_bin_dir()
        root = Path(tempfile.mkdtemp(prefix="kam-pg-"))
        data, sock = root / "data", root / "sock"
        data.mkdir()
        sock.mkdir()
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            shutil.chown(data, "postgres")
            shutil.chown(sock, "postgres")
        subprocess.run(
            _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", superuser,
                          "--no-sync", "-E", "UTF8", "--locale=C"]),
            check=True, capture_output=True, text=True,
        )
        port = _free_port()
        opts = (f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"),
                          "-w", "-t", "60", "start"]),
            check=True, capture_output=True, text=True,
        )
        server = cls(root=root, port=port, bin_dir=bin_dir, superuser=superuser)
        deadline = time.monotonic() + 30
        while True:
            try:
                server.psql("select 1")
                return server
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        subprocess.run(
            _as_postgres([str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate",
                          "-w", "stop"]),
            check=False, capture_output=True,
        )
        shutil.rmtree(self.root, ignore_errors=True)
