"""The same dbt project on Spark (dbt-spark session mode, `--target spark`): the raw tables the DuckDB
build read, exported to Parquet and registered as Spark tables, build with every node green, and every
mart equals the DuckDB build row for row (money exact, ratios to 1e-12). The generated book has no
month-end close, so a last test closes a month on a copy of the DuckDB warehouse (`kam close`'s
close_month, one frozen figure and the as-of date then moved so there are restatements with late-load
causes), gives Spark the same finance.* rows and compares the finance marts rebuilt on both.

Needs the optional dependency group `spark` and Java 17: run it with `make test-spark` (its own venv,
.venv-spark); in the default venv (no pyspark) it is skipped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import GeneratedBuild, book_settings
from mart_compare import compare_relations, fetch_relation

from kam_warehouse import dbt
from kam_warehouse.core.settings import Settings
from kam_warehouse.dbt import DbtFailed, DbtResult
from kam_warehouse.serving.close import add_months, close_month

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


def export_raw_to_parquet(duckdb_path: Path, root: Path, schema: str = "raw") -> dict[str, int]:
    """One Parquet folder per table of `schema` (<root>/<table>/data.parquet); returns rows per table."""
    counts: dict[str, int] = {}
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        for (table,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?", [schema]).fetchall():
            folder = root / table
            folder.mkdir(parents=True)
            con.execute(f"copy {schema}.{table} to '{folder / 'data.parquet'}' (format parquet)")
            counts[table] = con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
    finally:
        con.close()
    return counts


@dataclass(frozen=True)
class SparkBuild:
    session: Any
    result: DbtResult
    root: Path
    settings: Settings  # dbt target/ and logs/ only; the warehouse is Spark's


#: --target spark: the settings' warehouse is DuckDB, and kam_warehouse.dbt sets KAM_DBT_TARGET from it
SPARK = ["--target", "spark"]


@contextmanager
def spark_environment(root: Path) -> Iterator[None]:
    """Where the Spark session keeps its tables (KAM_SPARK_WAREHOUSE_DIR) and its catalog (metastore_db in
    the working directory: Spark's scratch files stay out of the repo)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KAM_SPARK_WAREHOUSE_DIR", str(root / "spark-warehouse"))
        env.chdir(root)
        yield


def invoke_spark(settings: Settings, args: list[str]) -> DbtResult:
    """One dbt command on Spark; a failed build returns its result (the tests name the failed nodes)."""
    try:
        return dbt.invoke(settings, [*args, *SPARK])
    except DbtFailed as failed:
        return failed.result


@pytest.fixture(scope="module")
def spark_build(generated_build: GeneratedBuild, tmp_path_factory) -> Iterator[SparkBuild]:
    """Raw tables exported to Parquet, registered in the Spark session, then `dbt build --target spark`."""
    root = tmp_path_factory.mktemp("spark")
    export_raw_to_parquet(generated_build.settings.build_db, root / "raw")
    settings = book_settings(root)
    with spark_environment(root):
        dbt.invoke(settings, ["run-operation", "register_parquet_sources", "--args", f"{{root: '{root / 'raw'}'}}",
                              *SPARK])
        result = invoke_spark(settings, ["build"])
    session = pyspark_sql.SparkSession.builder.getOrCreate()
    try:
        yield SparkBuild(session=session, result=result, root=root, settings=settings)
    finally:
        session.stop()


def compare_marts(duckdb_path: Path, session: Any, prefix: str = "") -> tuple[dict[str, int], list[str]]:
    """Every relation of schema marts (named `prefix`...) on DuckDB against Spark: rows per relation, problems."""
    duck = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        marts = [name for (name,) in duck.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()
            if name.startswith(prefix)]
        rows: dict[str, int] = {}
        problems: list[str] = []
        for name in marts:
            on_duckdb = fetch_relation(duck.cursor(), f'marts."{name}"')
            on_spark = fetch_relation(SparkCursor(session), f'marts."{name}"')
            rows[name] = len(on_duckdb.rows)
            problems += compare_relations(name, on_duckdb, on_spark)
    finally:
        duck.close()
    return rows, problems


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
    rows, problems = compare_marts(generated_build.settings.build_db, spark_build.session)
    assert not problems, "\n".join(problems[:40])
    assert rows["fct_account_revenue_monthly"] > 0


FINANCE_TABLES = ("concentration_closed", "concentration_closed_entities", "close_log")


def test_finance_marts_of_a_closed_month_equal_on_spark(generated_build: GeneratedBuild, spark_build: SparkBuild,
                                                       tmp_path_factory) -> None:
    """A month closed (and then restated) on DuckDB; Spark given the same finance.* rows; the finance marts
    rebuilt on both engines are equal and not empty."""
    root = tmp_path_factory.mktemp("spark-close")
    closed = book_settings(root)
    closed.ensure_dirs()
    closed.build_db.write_bytes(generated_build.settings.build_db.read_bytes())
    with duckdb.connect(str(closed.build_db), read_only=True) as con:
        (as_of,) = con.execute("select as_of_date from intermediate.int_as_of_date").fetchone()
    month = add_months(date(as_of.year, as_of.month, 1), -1)
    close_month(closed, month, run_id="spark_close", closed_by="test")
    with duckdb.connect(str(closed.build_db)) as con:
        # restatements: one frozen figure moved; the as-of date moved before the extract day, so every
        # source row of the month counts as loaded after the close (the causes name them)
        con.execute("update finance.concentration_closed set value = value + 1 "
                    "where metric = 'active_count' and figure_month = closed_month")
        con.execute("update finance.concentration_closed set as_of_date = closed_month - 1")
    dbt.build(closed, select="path:models/marts/finance")
    export_raw_to_parquet(closed.build_db, root / "finance", schema="finance")

    with spark_environment(spark_build.root):
        duck = duckdb.connect(str(closed.build_db), read_only=True)
        try:
            for table in FINANCE_TABLES:
                columns = ", ".join(name for (name,) in duck.execute(
                    "select column_name from information_schema.columns where table_schema = 'finance' "
                    "and table_name = ? order by ordinal_position", [table]).fetchall())
                spark_build.session.sql(f"insert into finance.{table} ({columns}) "
                                        f"select {columns} from parquet.`{root / 'finance' / table}`")
        finally:
            duck.close()
        result = invoke_spark(spark_build.settings, ["build", "--select", "path:models/marts/finance"])
    assert not result.failed_nodes, "\n".join(n.describe() for n in result.failed_nodes)

    rows, problems = compare_marts(closed.build_db, spark_build.session, prefix="mart_finance_")
    assert not problems, "\n".join(problems[:40])
    for name in ("mart_finance_concentration_closed", "mart_finance_concentration_closed_entities",
                 "mart_finance_concentration_monthly_closed", "mart_finance_concentration_restatements",
                 "mart_finance_concentration_monthly_restated"):
        assert rows[name] > 0, name
