"""The whole night on a PostgreSQL warehouse, selected by KAM_WAREHOUSE_URL only, as an operator runs it
(`kam` subprocesses): load with quarantine, dbt, gate (and a blocking defect night held back), tiers,
publish, close, report, rollback — and the same extracts through the embedded DuckDB give the same
marts (money exact, ratios to 1e-12). Protects issue 16's "done when": one switch, equal marts."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import psycopg2
import pytest

from tests.dbt.mart_compare import compare_schema

sys.path.insert(0, str(Path(__file__).parent))
from gate_scenarios import (
    ROW_SCENARIOS,
    csv_text,
    next_day,
    quarantine_share_config,
    sample_rows,
    write_day,
)

from sample_extracts.defects import BAD_DATES

pytestmark = pytest.mark.e2e

KAM = [sys.executable, "-m", "kam_warehouse"]
DATABASE = "kam_night"
#: columns that name the run or the moment that wrote a row: they differ between any two runs
RUN_IDENTITY = frozenset({"run_id", "published_at", "source_file", "closed_at", "loaded_at", "_loaded_at",
                          "recorded_at", "changed_at", "started_at", "ended_at"})


def _kam(*args: str, url: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAM_WAREHOUSE_URL": url}
    return subprocess.run([*KAM, *args], capture_output=True, text=True, env=env, timeout=1800)


class Night:
    def __init__(self, root: Path, server) -> None:
        self.root, self.server = root, server
        self.landing = root / "landing"
        self.duck = root / "wh-duckdb"
        self.pg = root / "wh-postgres"  # local state only (lock, dbt target, logs, rejected files)
        self.url = f"postgresql://{server.user}@{server.host}:{server.port}/{DATABASE}"

    def pg_connect(self, database: str = DATABASE):
        con = psycopg2.connect(f"host={self.server.host} port={self.server.port} user={self.server.user} "
                               f"dbname={database}")
        con.autocommit = True
        return con

    def served_run_id(self) -> str:
        with self.pg_connect() as con, con.cursor() as cur:
            cur.execute("select run_id from marts._publish_info")
            return cur.fetchone()[0]


def _land_one_bad_row(landing: Path) -> None:
    """A delta day re-sending 100 rows, one with a bad date: quarantined, below the blocking share."""
    scenario = next(s for s in ROW_SCENARIOS if s.defect == "bad_date")
    header, rows = sample_rows(landing, scenario.source, scenario.entity, 100)
    rows[0][header.index(scenario.column)] = BAD_DATES[0]
    write_day(landing, scenario.source, next_day(landing),
              {f"{scenario.entity}.csv": csv_text(header, rows).encode()})


@pytest.fixture(scope="module")
def night(tmp_path_factory, postgres_server) -> Night:
    n = Night(tmp_path_factory.mktemp("pgnight"), postgres_server)
    postgres_server.create_warehouse(DATABASE)
    gen = _kam("demo-data", "--out", str(n.landing), "--accounts", "60", "--months", "18", "--seed", "11",
               "--days", "2")
    assert gen.returncode == 0, gen.stderr
    _land_one_bad_row(n.landing)
    duck = _kam("run", "--landing", str(n.landing), "--warehouse", str(n.duck))
    assert duck.returncode == 0, duck.stdout + duck.stderr
    pg = _kam("run", "--landing", str(n.landing), "--warehouse", str(n.pg), url=n.url)
    assert pg.returncode == 0, pg.stdout + pg.stderr
    n.first_output = pg.stdout
    return n


def test_kam_run_on_postgres_serves_the_marts_duckdb_serves(night: Night) -> None:
    """Every relation of the served `marts` schema on PostgreSQL equals serving.duckdb's, row for row."""
    duck = duckdb.connect(str(night.duck / "serving.duckdb"), read_only=True)
    pg = night.pg_connect()
    try:
        marts = [r[0] for r in duck.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
        with pg.cursor() as cur:
            cur.execute("select table_name from information_schema.tables where table_schema = 'marts' order by 1")
            assert [r[0] for r in cur.fetchall()] == marts
        assert "mart_revenue_concentration_monthly" in marts
        problems, rows = compare_schema(duck, pg, "marts", skip_columns=RUN_IDENTITY)
        assert not problems, "\n".join(problems[:40])
        assert rows > 1000
    finally:
        pg.close()
        duck.close()
    assert not (night.pg / "build.duckdb").exists() and not (night.pg / "serving.duckdb").exists()


def test_load_on_postgres_quarantines_what_duckdb_quarantines(night: Night) -> None:
    """The raw layer on PostgreSQL holds the same loaded rows, quarantine rows and manifest as DuckDB's."""
    duck = duckdb.connect(str(night.duck / "build.duckdb"), read_only=True)
    pg = night.pg_connect(DATABASE + "_build")
    try:
        for sql in ("select count(*) from raw.quarantine",
                    "select source, entity, count(*), sum(rows_loaded), sum(rows_quarantined) from raw.load_manifest "
                    "where status = 'loaded' group by 1, 2 order by 1, 2",
                    "select count(*) from raw.billing__invoice_lines"):
            with pg.cursor() as cur:
                cur.execute(sql)
                assert [tuple(r) for r in cur.fetchall()] == [tuple(r) for r in duck.execute(sql).fetchall()], sql
        assert duck.execute("select count(*) from raw.quarantine").fetchone()[0] > 0
    finally:
        pg.close()
        duck.close()


def test_steps_are_recorded_in_the_served_run_log(night: Night) -> None:
    with night.pg_connect() as con, con.cursor() as cur:
        cur.execute("select step, status from ops.pipeline_runs where run_id = %s order by started_at",
                    (night.served_run_id(),))
        assert [tuple(r) for r in cur.fetchall()] == [
            ("load", "success"), ("dbt_build", "success"), ("quality_gate", "success"), ("tiers", "success"),
            ("publish", "success")]


def test_close_report_and_rollback_on_postgres(night: Night, tmp_path: Path) -> None:
    """Month-end close publishes frozen figures the report reads from the PostgreSQL serving database, the
    same as the DuckDB close of the same month; rollback serves the build before it again."""
    month = "2024-05"
    for wh, url in ((night.duck, ""), (night.pg, night.url)):
        closed = _kam("close", "--month", month, "--warehouse", str(wh), url=url)
        assert closed.returncode == 0, f"{url or 'duckdb'}: {closed.stdout}{closed.stderr}"
    reports = {}
    for name, wh, url in (("duckdb", night.duck, ""), ("postgres", night.pg, night.url)):
        out = tmp_path / name
        rep = _kam("report", "concentration", "--month", month, "--warehouse", str(wh), "--format", "csv",
                   "--out", str(out), url=url)
        assert rep.returncode == 0, rep.stdout + rep.stderr
        (csv_file,) = out.glob("*.csv")
        with csv_file.open(encoding="utf-8", newline="") as f:
            reports[name] = [{k: v for k, v in row.items() if k not in RUN_IDENTITY} for row in csv.DictReader(f)]
    assert reports["postgres"] and {row["status"] for row in reports["postgres"]} == {"closed"}
    assert reports["postgres"] == reports["duckdb"]
    before = night.served_run_id()
    rolled = _kam("publish", "--rollback", "--warehouse", str(night.pg), url=night.url)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert night.served_run_id() != before
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_a_blocking_defect_night_is_held_back_and_readers_keep_the_last_good_build(night: Night) -> None:
    """A day whose bad rows breach the quarantine share: the gate blocks, tiers and publish are held back
    (recorded), and the served schemas still hold the previous build."""
    served = night.served_run_id()
    scenario = next(s for s in ROW_SCENARIOS if s.defect == "bad_date")
    scenario.land(night.landing, next_day(night.landing), quarantine_share_config().params["max_share"])
    run = _kam("run", "--landing", str(night.landing), "--warehouse", str(night.pg), url=night.url)
    assert run.returncode != 0
    assert "quality gate" in (run.stdout + run.stderr).lower()
    assert night.served_run_id() == served
    with night.pg_connect(DATABASE + "_build") as con, con.cursor() as cur:
        cur.execute("select step, status from ops.pipeline_runs where step in ('tiers', 'publish') and run_id = "
                    "(select run_id from ops.pipeline_runs where step = 'quality_gate' order by started_at desc "
                    "limit 1) order by step")
        assert [tuple(r) for r in cur.fetchall()] == [("publish", "held_back"), ("tiers", "held_back")]
        cur.execute("select count(*) from ops.dq_results where not success and severity = 'block'")
        assert cur.fetchone()[0] >= 1
