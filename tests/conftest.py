"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from tests.pg_server import PostgresServer

# Tests run as KAM_ENV=test with a generated contact-data HMAC key (issue 18); subprocesses inherit both.
os.environ.setdefault("KAM_ENV", "test")
os.environ.setdefault("KAM_PII_KEY", secrets.token_hex(32))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throw-away PostgreSQL on loopback for the whole session; tests create their own databases."""
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_warehouse_url(postgres_server, request):
    """A factory: `pg_warehouse_url("name")` -> KAM_WAREHOUSE_URL of fresh, empty serving and build
    databases (`name`, `name_build`) on the session's PostgreSQL; default name from the test."""
    import re

    def make(name: str | None = None) -> str:
        db = name or "kam_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40]
        for database in (db, db + "_build"):
            postgres_server.psql(f'drop database if exists "{database}" with (force)')
            postgres_server.psql(f'create database "{database}" template template0 lc_collate \'C\' lc_ctype \'C\'')
        return f"postgresql://{postgres_server.user}@{postgres_server.host}:{postgres_server.port}/{db}"

    return make
