"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pg_server import PostgresServer


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throw-away PostgreSQL on loopback for the whole session; tests create their own databases."""
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()
