"""The same dbt project on Spark (dbt-spark session mode, `--target spark`): the raw tables the DuckDB
build read, exported to Parquet and registered as Spark tables, build with every node green, and every
mart equals the DuckDB build row for row (money exact, ratios to 1e-12).

Needs the optional dependency group `spark` and Java 17: run it with `make test-spark` (its own venv,
.venv-spark); in the default venv (no pyspark) it is skipped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import GeneratedBuild, book_settings
from mart_compare import compare_relations, fetch_relation

from kam_warehouse import dbt
from kam_warehouse.dbt import DbtFailed, DbtResult

pyspark_sql = pytest.importorskip("pyspark.sql", reason="optional dependency group `spark` (make test-spark)")

pytestmark = pytest.mark.e2e


class SparkCursor:
    """The two DB-API cursor members mart_compare uses, over a SparkSession."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self.description: list[tuple[str]] = []
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: Any = None) -> None:
        frame = self._session.sql(sql.replace('"', "`"))
        self.description = [(name,) for name in frame.columns]
        self._rows = [tuple(row) for row in frame.collect()]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


def export_raw_to_parquet(duckdb_path: Path, root: Path) -> dict[str, int]:
    """One Parquet folder per raw table (<root>/<table>/data.parquet); returns rows per table."""
    counts: dict[str, int] = {}
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        for (table,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'").fetchall():
            folder = root / table
            folder.mkdir(parents=True)
            con.execute(f"copy raw.{table} to '{folder / 'data.parquet'}' (format parquet)")
            counts[table] = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
    finally:
        con.close()
    return counts


@dataclass(frozen=True)
class SparkBuild:
    session: Any
    result: DbtResult


@pytest.fixture(scope="module")
def spark_build(generated_build: GeneratedBuild, tmp_path_factory) -> Iterator[SparkBuild]:
    """Raw tables exported to Parquet, registered in the Spark session, then `dbt build --target spark`."""
    root = tmp_path_factory.mktemp("spark")
    export_raw_to_parquet(generated_build.settings.build_db, root / "raw")
    settings = book_settings(root)  # dbt target/ and logs/ only
    # --target spark: the settings' warehouse is DuckDB, and kam_warehouse.dbt sets KAM_DBT_TARGET from it
    spark = ["--target", "spark"]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KAM_SPARK_WAREHOUSE_DIR", str(root / "spark-warehouse"))
        env.chdir(root)  # Spark's own scratch files (metastore_db, derby.log) stay out of the repo
        dbt.invoke(settings, ["run-operation", "register_parquet_sources", "--args", f"{{root: '{root / 'raw'}'}}",
                              *spark])
        try:
            result = dbt.invoke(settings, ["build", *spark])
        except DbtFailed as failed:  # the test below names the failed nodes
            result = failed.result
    session = pyspark_sql.SparkSession.builder.getOrCreate()
    try:
        yield SparkBuild(session=session, result=result)
    finally:
        session.stop()


def node_names(result: DbtResult) -> Counter[tuple[str, str]]:
    """(resource type, name) of every node a build ran. Not unique_id: a generic test's id ends in a hash of
    its rendered arguments, and a quoted column (`window`) renders as "window" on DuckDB, `window` on Spark."""
    return Counter((n.resource_type, n.name) for n in result.nodes)


def test_spark_build_runs_every_node_green(generated_build: GeneratedBuild, spark_build: SparkBuild) -> None:
    """On Spark the build runs the same nodes as on DuckDB (models, seeds, data and unit tests) and none fails."""
    assert not spark_build.result.failed_nodes, "\n".join(n.describe() for n in spark_build.result.failed_nodes)
    assert node_names(spark_build.result) == node_names(generated_build.result)


def test_every_mart_equal_on_spark(generated_build: GeneratedBuild, spark_build: SparkBuild) -> None:
    """Every relation of schema marts has the same rows on Spark as on DuckDB (money exact, ratios to 1e-12)."""
    duck = duckdb.connect(str(generated_build.settings.build_db), read_only=True)
    try:
        marts = [name for (name,) in duck.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
        problems: list[str] = []
        for name in marts:
            on_duckdb = fetch_relation(duck.cursor(), f'marts."{name}"')
            on_spark = fetch_relation(SparkCursor(spark_build.session), f'marts."{name}"')
            problems += compare_relations(name, on_duckdb, on_spark)
    finally:
        duck.close()
    assert not problems, "\n".join(problems[:40])
