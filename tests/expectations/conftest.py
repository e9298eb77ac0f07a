"""A small, internally consistent build warehouse for the gate tests (every check passes on it)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from ingest.contract import ENTITIES
from ingest.schema import ensure_raw_schema
from kam_warehouse.settings import REPO_ROOT
from kam_warehouse.tiers.state import ensure_tier_state

GOOD_SQL = """
INSERT INTO raw.load_manifest
SELECT src || '/' || d::VARCHAR || '/' || ent || '.csv', src, ent, d::DATE, 100, 'sha', 0, 'utf-8',
       100, 100, 0, NULL, src || ':' || d::VARCHAR, 'loaded', NULL, d::TIMESTAMP + INTERVAL 1 HOUR
FROM (VALUES ('billing', 'invoice_lines'), ('crm', 'accounts')) s(src, ent),
     generate_series(DATE '2025-03-01', DATE '2025-03-10', INTERVAL 1 DAY) g(d);

CREATE SCHEMA staging; CREATE SCHEMA intermediate; CREATE SCHEMA marts;

CREATE TABLE marts.dim_account AS
SELECT * FROM (VALUES ('A1', 'A1'), ('A2', 'A1'), ('B1', 'B1')) t(account_id, group_id);

CREATE TABLE marts.fct_account_revenue_monthly AS
SELECT a.account_id, m::DATE AS revenue_month, 100.0::DOUBLE AS revenue
FROM (VALUES ('A1'), ('A2'), ('B1')) a(account_id),
     generate_series(DATE '2025-01-01', DATE '2025-03-01', INTERVAL 1 MONTH) g(m);

CREATE TABLE intermediate.int_account_revenue_monthly AS SELECT * FROM marts.fct_account_revenue_monthly;

CREATE TABLE marts.mart_revenue_concentration_monthly AS
SELECT DATE '2025-03-01' AS revenue_month, 'account' AS level, 'month' AS "window", 3 AS active_count,
       300.0 AS total_revenue, 0.33::DOUBLE AS top_20pct_share, 1.0::DOUBLE AS top_10_share, 3 AS count_for_80pct,
       3333.3::DOUBLE AS hhi, 0.0::DOUBLE AS gini;

CREATE TABLE marts.mart_account_tier_scores AS
SELECT * FROM (VALUES ('A1', 80.0::DOUBLE), ('B1', 40.0::DOUBLE)) t(account_id, score);
"""


def _stg_tables(con: duckdb.DuckDBPyConnection) -> None:
    for e in ENTITIES:
        cols = ", ".join(f"'{e.name}-' || i::VARCHAR AS {k}" for k in e.key)
        con.execute(f"CREATE TABLE staging.stg_{e.source}__{e.name} AS SELECT {cols} FROM range(3) r(i)")


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    d = tmp_path / "config"
    d.mkdir()
    shutil.copy(REPO_ROOT / "config" / "quality.yml", d / "quality.yml")
    return d


@pytest.fixture
def good_db(tmp_path: Path) -> Path:
    db = tmp_path / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        ensure_raw_schema(con)
        con.execute(GOOD_SQL)
        _stg_tables(con)
        ensure_tier_state(con)
    return db


@pytest.fixture
def mutate(good_db: Path) -> Callable[[str], Path]:
    def apply(sql: str) -> Path:
        with duckdb.connect(str(good_db)) as con:
            con.execute(sql)
        return good_db

    return apply
