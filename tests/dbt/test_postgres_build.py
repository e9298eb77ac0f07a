"""The same dbt project on PostgreSQL (`--target postgres`, i.e. KAM_DBT_TARGET=postgres): over the raw
tables the DuckDB build read, every model, data test and unit test passes, and every mart equals the
DuckDB build row for row (money exact, ratios to 1e-12)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import duckdb
import psycopg2
import pytest
from conftest import GeneratedBuild, book_settings
from engine_copy import copy_schema_to_postgres
from mart_compare import compare_schema, relations_of

from kam_warehouse import dbt
from kam_warehouse.core.warehouse.locate import BUILD_SUFFIX
from kam_warehouse.dbt import DbtResult

pytestmark = pytest.mark.e2e

DATABASE = "kam_dbt_engines"


@dataclass(frozen=True)
class PostgresBuild:
    dsn: str
    copied_rows: dict[str, int]
    result: DbtResult


@pytest.fixture(scope="module")
def postgres_build(generated_build: GeneratedBuild, postgres_server, tmp_path_factory) -> PostgresBuild:
    """The generated book's raw tables copied from the DuckDB build into PostgreSQL, then `dbt build`
    with the postgres target (connection from the KAM_PG_* variables the profile reads)."""
    dsn = postgres_server.create_database(DATABASE + BUILD_SUFFIX)
    copied = copy_schema_to_postgres(generated_build.settings.build_db, dsn)
    # the build warehouse on the server (KAM_WAREHOUSE_URL names the serving database; the build is
    # its _build twin); the local folder keeps dbt's target/ and logs/ only
    settings = replace(book_settings(tmp_path_factory.mktemp("postgres")),
                       warehouse_url=postgres_server.url(DATABASE))
    result = dbt.build(settings)
    return PostgresBuild(dsn=dsn, copied_rows=copied, result=result)


@pytest.fixture
def connections(generated_build: GeneratedBuild, postgres_build: PostgresBuild) -> Iterator[tuple]:
    duck = duckdb.connect(str(generated_build.settings.build_db), read_only=True)
    pg = psycopg2.connect(postgres_build.dsn)
    try:
        yield duck, pg
    finally:
        pg.close()
        duck.close()


def test_raw_tables_copied_whole(connections, postgres_build: PostgresBuild) -> None:
    """PostgreSQL reads exactly the raw rows DuckDB read: every raw table, same row count."""
    duck, _ = connections
    tables = [t for (t,) in duck.execute(
        "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()]
    want = {t: duck.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in tables}
    assert postgres_build.copied_rows == want
    assert want["billing__invoice_lines"] > 1000


def test_postgres_build_runs_every_node_green(generated_build: GeneratedBuild, postgres_build: PostgresBuild) -> None:
    """On PostgreSQL the build runs the same nodes as on DuckDB (models, seeds, data tests, unit tests,
    the reconciliation test) and none fails."""
    assert not postgres_build.result.failed_nodes
    on_duckdb = {n.unique_id for n in generated_build.result.nodes}
    on_postgres = {n.unique_id for n in postgres_build.result.nodes}
    assert on_postgres == on_duckdb
    kinds = {n.resource_type for n in postgres_build.result.nodes}
    assert {"model", "seed", "test", "unit_test"} <= kinds
    assert "test.kam_warehouse.assert_monthly_revenue_reconciles_to_staging" in on_postgres


def test_every_mart_equal_across_engines(connections) -> None:
    """Every relation of schema marts has the same columns and rows on PostgreSQL as on DuckDB: money
    (DECIMAL) exactly equal and decimal on both, floating-point ratios to 1e-12."""
    duck, pg = connections
    assert {"fct_account_revenue_monthly", "mart_revenue_concentration_monthly"} <= relations_of(duck.cursor(), "marts")
    problems, compared_rows = compare_schema(duck, pg, "marts")
    assert not problems, "\n".join(problems)
    assert compared_rows > 3000
