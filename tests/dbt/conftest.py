"""Real dbt builds shared by the tests of this folder: the hand-made book, and a generated book
loaded by ingest (also the input of the cross-engine comparison)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from kam_warehouse.dbt import DbtResult
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


@dataclass(frozen=True)
class GeneratedBuild:
    """A generated book loaded by ingest and built by dbt on DuckDB."""

    settings: Settings
    result: DbtResult


@pytest.fixture(scope="session")
def generated_build(tmp_path_factory: pytest.TempPathFactory) -> GeneratedBuild:
    """Generated extracts (40 accounts, 15 months, clean) loaded by ingest and built with `dbt build`."""
    from ingest.load import load_landing
    from kam_warehouse import dbt
    from sample_extracts import GeneratorOptions, generate

    settings = book_settings(tmp_path_factory.mktemp("generated"))
    settings.ensure_dirs()
    generate(GeneratorOptions(out=settings.landing_dir, accounts=40, months=15, days=1))
    load_landing(settings.landing_dir, settings.build_db, run_id="t", rejected_dir=settings.rejected_dir)
    return GeneratedBuild(settings=settings, result=dbt.build(settings))
