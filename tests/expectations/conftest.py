"""A small, internally consistent build warehouse for the gate tests (every check passes on it), and the
dbt artifacts (run_results.json + manifest.json) of a build that ran on it."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ingest.contract import ENTITIES
from ingest.schema import ensure_raw_schema
from kam_warehouse.core.warehouse import Warehouse, locate
from kam_warehouse.settings import REPO_ROOT

#: ten extract days of two entities, each file loaded at 01:00 of its day
MANIFEST_SQL = """
INSERT INTO raw.load_manifest
SELECT src || '/' || d::VARCHAR || '/' || ent || '.csv', src, ent, d::DATE, 100, 'sha', 0, 'utf-8',
       100, 100, 0, NULL, src || ':' || d::VARCHAR, 'loaded', NULL, d::TIMESTAMP + INTERVAL 1 HOUR
FROM (VALUES ('billing', 'invoice_lines'), ('crm', 'accounts')) s(src, ent),
     generate_series(DATE '2025-03-01', DATE '2025-03-10', INTERVAL 1 DAY) g(d)
"""
#: after the latest load_manifest.loaded_at above
BUILD_FINISHED = datetime(2025, 3, 10, 2, 0)

#: (test name, dbt status, failures, tested model) of the default dbt build: every test passed
PASSING_TESTS: tuple[tuple[str, str, int, str], ...] = (
    ("unique_dim_account_account_id", "pass", 0, "dim_account"),
    ("accepted_values_stg_crm__activities_activity_type", "pass", 0, "stg_crm__activities"),
    ("movement_classification_including_reactivation", "pass", 0, "fct_account_revenue_monthly"),
)


def _raw_and_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Three keys per entity in raw (the first sent twice, as two versions) and staging (one row each)."""
    con.execute("CREATE SCHEMA staging")
    for e in ENTITIES:
        types = {c.name: c.duckdb_type for c in e.columns}
        cols = ", ".join(e.key)
        values = ", ".join(
            f"CAST(DATE '2025-01-01' + CAST(i AS INTEGER) AS {types[k]}) AS {k}" if types[k] == "DATE"
            else f"CAST('{e.name}-' || i::VARCHAR AS {types[k]}) AS {k}" for k in e.key)
        con.execute(f"INSERT INTO {e.raw_table} ({cols}) SELECT {values} FROM (VALUES (0), (0), (1), (2)) r(i)")
        con.execute(f"CREATE TABLE staging.stg_{e.source}__{e.name} AS SELECT DISTINCT {cols} FROM {e.raw_table}")


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    d = tmp_path / "config"
    d.mkdir()
    shutil.copy(REPO_ROOT / "config" / "quality.yml", d / "quality.yml")
    return d


def write_good_db(db: Path) -> Path:
    """The consistent build warehouse (every GX check passes on it) as an embedded DuckDB file."""
    with duckdb.connect(str(db)) as con:
        ensure_raw_schema(con)
        con.execute(MANIFEST_SQL)
        _raw_and_staging(con)
    return db


@pytest.fixture
def good_db(tmp_path: Path) -> Path:
    return write_good_db(tmp_path / "build.duckdb")


@pytest.fixture(scope="module")
def good_duckdb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One good DuckDB file per module, the source of the PostgreSQL copies (never written)."""
    return write_good_db(tmp_path_factory.mktemp("good") / "build.duckdb")


@pytest.fixture
def pg_good_build(good_duckdb_file: Path, pg_warehouse_url, postgres_server, tmp_path: Path) -> Warehouse:
    """The same good build warehouse on PostgreSQL: raw and staging copied, types kept, into a fresh build
    database (tests/dbt/engine_copy.py)."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "dbt"))
    from engine_copy import copy_schema_to_postgres

    build = locate(pg_warehouse_url(), tmp_path).build
    dsn = postgres_server.url(build.database)  # type: ignore[attr-defined]
    for schema in ("raw", "staging"):
        copy_schema_to_postgres(good_duckdb_file, dsn, schema)
    return build


@pytest.fixture
def mutate(good_db: Path) -> Callable[[str], Path]:
    def apply(sql: str) -> Path:
        with duckdb.connect(str(good_db)) as con:
            con.execute(sql)
        return good_db

    return apply


def write_dbt_target(target: Path, tests: Sequence[tuple[str, str, int, str]] = PASSING_TESTS, *,
                     which: str = "build", generated_at: datetime = BUILD_FINISHED) -> Path:
    """run_results.json + manifest.json as dbt 1.11 writes them, for `tests` on models of schema marts /
    staging (a name ending in `_reactivation` is a unit test, the others generic data tests)."""
    target.mkdir(parents=True, exist_ok=True)
    nodes: dict[str, dict[str, object]] = {}
    unit_tests: dict[str, dict[str, object]] = {}
    results = []
    for name, status, failures, model in tests:
        model_id = f"model.kam_warehouse.{model}"
        nodes[model_id] = {"resource_type": "model", "name": model, "alias": model,
                           "schema": "staging" if model.startswith("stg_") else "marts"}
        if name.endswith("_reactivation"):
            uid = f"unit_test.kam_warehouse.{model}.{name}"
            unit_tests[uid] = {"resource_type": "unit_test", "name": name, "model": model,
                               "package_name": "kam_warehouse", "depends_on": {"nodes": [model_id]}}
        else:
            uid = f"test.kam_warehouse.{name}.0a1b2c3d4e"
            nodes[uid] = {"resource_type": "test", "name": name, "attached_node": model_id,
                          "depends_on": {"nodes": [model_id]}}
        results.append({"unique_id": uid, "status": status, "failures": failures,
                        "message": None if status == "pass" else f"Got {failures} results, configured to fail if != 0"})
    stamp = generated_at.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
    (target / "run_results.json").write_text(json.dumps({
        "metadata": {"dbt_version": "1.11.16", "generated_at": stamp, "invocation_id": "x"},
        "args": {"which": which, "select": []}, "results": results}))
    (target / "manifest.json").write_text(json.dumps({"nodes": nodes, "unit_tests": unit_tests, "parent_map": {}}))
    return target


@pytest.fixture
def make_dbt_target(tmp_path: Path) -> Callable[..., Path]:
    """Writes the dbt target folder of a build (arguments of write_dbt_target); returns the folder."""
    def make(tests: Sequence[tuple[str, str, int, str]] = PASSING_TESTS, **kwargs: object) -> Path:
        return write_dbt_target(tmp_path / "dbt_target", tests, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def dbt_target(make_dbt_target: Callable[..., Path]) -> Path:
    """The dbt target folder of a build in which every test passed."""
    return make_dbt_target()
