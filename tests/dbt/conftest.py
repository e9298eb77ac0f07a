"""One real dbt build over the hand-made book, shared by the tests of this folder."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from kam_warehouse.settings import Settings

# the suite runs with --import-mode=importlib: make this folder's helper modules importable
sys.path.insert(0, str(Path(__file__).parent))

from dbt_book import write_book


def book_settings(root: Path) -> Settings:
    return Settings(landing_dir=root / "landing", warehouse_dir=root / "warehouse", config_dir=root / "config")


@pytest.fixture(scope="session")
def book_build(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The book written into raw tables and built with `dbt build` (models, tests, unit tests)."""
    from kam_warehouse import dbt

    settings = book_settings(tmp_path_factory.mktemp("book"))
    settings.ensure_dirs()
    write_book(settings.build_db)
    dbt.build(settings)
    return settings


@pytest.fixture
def book_db(book_build: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(book_build.build_db), read_only=True)
    try:
        yield con
    finally:
        con.close()
