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
        return postgres_server.create_warehouse(
            name or "kam_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40])

    return make
