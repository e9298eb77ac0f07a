"""A tmp copy of the dbt project holding the real finance models, the real sources and macros, and
stub concentration marts that read tables the test writes (schema test_input). Lets the finance
models run through real dbt without building the whole warehouse."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import duckdb

from ingest.schema import ensure_raw_schema
from kam_warehouse.settings import DBT_PROJECT_DIR

METRICS = ("active_count", "total_revenue", "top_20pct_count", "top_20pct_share", "top_10_share",
           "count_for_80pct", "hhi", "gini", "max_share")


def make_project(root: Path) -> Path:
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR / "macros", project / "macros")
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(DBT_PROJECT_DIR / name, project / name)
    for sub in ("staging/billing", "staging/crm"):
        (project / "models" / sub).mkdir(parents=True)
        for yml in (DBT_PROJECT_DIR / "models" / sub).glob("_*__sources.yml"):
            shutil.copy(yml, project / "models" / sub / yml.name)
    shutil.copytree(DBT_PROJECT_DIR / "models/marts/finance", project / "models/marts/finance")
    stubs = project / "models/marts/concentration"
    stubs.mkdir(parents=True)
    for mart in ("mart_revenue_concentration_monthly", "mart_revenue_concentration_by_segment"):
        (stubs / f"{mart}.sql").write_text(f"select * from test_input.{mart}\n")
    return project


def write_inputs(db: Path, *, month: date, total_revenue: float, as_of: date) -> None:
    """Concentration marts for one month (overall: both levels and windows; one segment) + raw schema
    with a manifest saying extracts are loaded through `as_of`."""
    cols = ", ".join(f"{v}::DOUBLE AS {m}" for m, v in zip(METRICS, (3, total_revenue, 1, 0.5, 1.0, 2, 4000, 0.3, 0.5),
                                                        strict=True))
    with duckdb.connect(str(db)) as con:
        ensure_raw_schema(con)
        con.execute("CREATE SCHEMA IF NOT EXISTS test_input")
        con.execute(
            "CREATE OR REPLACE TABLE test_input.mart_revenue_concentration_monthly AS "
            f"SELECT ?::DATE AS revenue_month, l.level, w.w AS \"window\", {cols} "
            "FROM (VALUES ('account'), ('group')) l(level), (VALUES ('month'), ('t12m')) w(w)", [month])
        con.execute(
            "CREATE OR REPLACE TABLE test_input.mart_revenue_concentration_by_segment AS "
            f"SELECT ?::DATE AS revenue_month, 'account' AS level, 'month' AS \"window\", 'enterprise' AS segment, {cols}",
            [month])
        con.execute("DELETE FROM raw.load_manifest")
        con.execute(
            "INSERT INTO raw.load_manifest VALUES ('billing/x/invoices.csv', 'billing', 'invoices', ?, 1, 'h', 0, "
            "'utf-8', 1, 1, 0, NULL, 'b1', 'loaded', NULL, now())", [as_of])


def dbt_build(project: Path, db: Path) -> None:
    from dbt.cli.main import dbtRunner

    os.environ["KAM_BUILD_DB"] = str(db)
    result = dbtRunner().invoke(["build", "--project-dir", str(project), "--profiles-dir", str(project),
                                 "--target-path", str(project / "target"), "--log-path", str(project / "logs"),
                                 "--quiet"])
    assert result.success, result.exception or result.result
    release_dbt_duckdb()


def release_dbt_duckdb() -> None:
    """dbt-duckdb keeps its DuckDB instance open in-process after invoke(); close it like a finished
    `dbt build` process would, so the code under test can open the file (read-only or not)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    if DuckDBConnectionManager._ENV is not None:
        DuckDBConnectionManager._ENV.close()
    DuckDBConnectionManager.close_all_connections()
