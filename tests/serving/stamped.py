"""Builds stamped with the run that built them, for publish tests (here and in tests/faults, where a
subprocess publishes them under a fault point)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from kam_warehouse.serving import publish
from kam_warehouse.settings import Settings


def stamp_rows(run_id: str) -> int:
    """Each build has a different row count, so a reader can tell a torn read from a consistent one."""
    return 50 + sum(map(ord, run_id)) % 97


@dataclass(frozen=True)
class StampedBuilds:
    settings: Settings

    stamp_rows = staticmethod(stamp_rows)

    def write(self, run_id: str, *, broken_view: bool = False) -> None:
        """(Re)write the build warehouse as a nightly run leaves it: marts tables and views, ops."""
        self.settings.ensure_dirs()
        with duckdb.connect(str(self.settings.build_db)) as con:
            for schema in ("staging", "marts", "ops"):
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            con.execute(
                "CREATE OR REPLACE TABLE marts.build_stamp AS SELECT ?::VARCHAR AS run_id, i, "
                "md5(?::VARCHAR || i::VARCHAR) AS payload FROM range(?) t(i)",
                [run_id, run_id, stamp_rows(run_id)],
            )
            con.execute(  # a second mart stamped with the run: a reader of both can tell a torn read
                "CREATE OR REPLACE TABLE marts.build_stamp_b AS SELECT ?::VARCHAR AS run_id, i FROM range(?) t(i)",
                [run_id, stamp_rows(run_id) + 1],
            )
            con.execute("CREATE OR REPLACE TABLE staging.stg_numbers AS SELECT range AS n FROM range(7)")
            con.execute("CREATE OR REPLACE VIEW marts.numbers_view AS SELECT n, n * n AS sq FROM staging.stg_numbers")
            con.execute("CREATE OR REPLACE TABLE ops.pipeline_runs AS SELECT ?::VARCHAR AS run_id, 'publish' AS step",
                        [run_id])
            if broken_view:  # fails only when queried, i.e. after publish has copied the tables
                con.execute("CREATE OR REPLACE VIEW marts.zz_broken AS SELECT CAST('not a number' AS INTEGER) AS x")
            else:
                con.execute("DROP VIEW IF EXISTS marts.zz_broken")

    def publish(self, run_id: str, *, broken_view: bool = False) -> None:
        self.write(run_id, broken_view=broken_view)
        publish(self.settings, run_id=run_id)

    def served_run_id(self) -> str:
        with duckdb.connect(str(self.settings.serving_db), read_only=True) as con:
            rows = con.execute("SELECT DISTINCT run_id FROM marts.build_stamp").fetchall()
        assert len(rows) == 1
        return rows[0][0]


@dataclass(frozen=True)
class PostgresStampedBuilds:
    """The same stamped builds in the build database of a PostgreSQL warehouse (Settings.build)."""

    settings: Settings

    stamp_rows = staticmethod(stamp_rows)

    def write(self, run_id: str, *, broken_view: bool = False) -> None:
        from kam_warehouse.core.warehouse import connect

        self.settings.ensure_dirs()
        n = stamp_rows(run_id)
        with connect(self.settings.build) as con:
            for schema in ("staging", "marts", "ops"):
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            con.execute("DROP VIEW IF EXISTS marts.zz_broken")
            con.execute("DROP VIEW IF EXISTS marts.numbers_view")
            for table in ("marts.build_stamp", "marts.build_stamp_b", "staging.stg_numbers", "ops.pipeline_runs"):
                con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute("CREATE TABLE marts.build_stamp AS SELECT ?::VARCHAR AS run_id, i::integer AS i, "
                        "md5(?::VARCHAR || i::VARCHAR) AS payload, (i * 1.25)::numeric(18, 2) AS amount, "
                        "DATE '2025-11-01' + i AS day FROM generate_series(0, ? - 1) AS t(i)", [run_id, run_id, n])
            con.execute("COMMENT ON TABLE marts.build_stamp IS 'Rows stamped with the run that built them.'")
            con.execute("COMMENT ON COLUMN marts.build_stamp.amount IS 'An exact amount.'")
            con.execute("CREATE TABLE marts.build_stamp_b AS SELECT ?::VARCHAR AS run_id, i::bigint AS i "
                        "FROM generate_series(0, ?) AS t(i)", [run_id, n])
            con.execute("CREATE TABLE staging.stg_numbers AS SELECT n::integer AS n FROM generate_series(0, 6) AS t(n)")
            con.execute("CREATE VIEW marts.numbers_view AS SELECT n, n * n AS sq FROM staging.stg_numbers")
            con.execute("CREATE TABLE ops.pipeline_runs AS SELECT ?::VARCHAR AS run_id, 'publish'::VARCHAR AS step",
                        [run_id])
            if broken_view:  # fails only when queried, i.e. after publish has copied the tables
                con.execute("CREATE VIEW marts.zz_broken AS SELECT n / (n - n) AS x FROM staging.stg_numbers")

    def publish(self, run_id: str, *, broken_view: bool = False) -> None:
        self.write(run_id, broken_view=broken_view)
        publish(self.settings, run_id=run_id)

    def served_run_id(self) -> str:
        from kam_warehouse.core.warehouse import connect

        with connect(self.settings.serving, read_only=True) as con:
            rows = con.execute("SELECT DISTINCT run_id FROM marts.build_stamp").fetchall()
            other = con.execute("SELECT DISTINCT run_id FROM marts.build_stamp_b").fetchall()
        assert len(rows) == 1 and rows == other
        return rows[0][0]
