"""The write floor of a full build: what writing the tables a full night must materialise costs alone.

    .venv/bin/python benchmarks/bench_scale.py --accounts 50000 --keep /tmp/kam-scale
    .venv/bin/python benchmarks/bench_write_floor.py /tmp/kam-scale/a50000

Reads the build warehouse a `bench_scale.py --keep` run left (`<root>/warehouse/build.duckdb`, opened
read-only) and, into a scratch DuckDB file of its own, copies with one `CREATE TABLE ... AS SELECT *`
each table a full build writes (every base table of the raw, staging, intermediate and marts schemas
with at least `--min-rows` rows), then what publish writes: every `marts` relation (tables and the
views publish materialises, e.g. the entity list and the Lorenz points) into a second scratch file and
each to Parquet. No computing beyond reading the finished rows: the sum is a lower bound on what a full
build spends writing, whatever its SQL. Printed next to the floor query (benchmarks/floor_query.sql)
on the same landing zone, timed in the same run, so the two can be compared as a ratio:
`(floor + write floor) / floor` is the least full/floor a build that materialises these tables can reach.

DuckDB runs with the build's `memory_limit` (config/pipeline.yml `build:`, KAM_DUCKDB_MEMORY_LIMIT wins) and
`preserve_insertion_order = false` (the copies need no order), as many threads as cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from kam_warehouse.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import REPO, floor  # a sibling script: the same floor query, in its own process

BUILD_SCHEMAS = ("raw", "staging", "intermediate", "marts")


@dataclass(frozen=True)
class Copy:
    phase: str
    relation: str
    rows: int
    seconds: float


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    """A scratch database under the build's limits (config/pipeline.yml `build:`, KAM_DUCKDB_* win),
    spilling beside it."""
    con = duckdb.connect(str(path))
    limits = Settings(landing_dir=path.parent, warehouse_dir=path.parent, config_dir=REPO / "config").duckdb_limits()
    dataclasses.replace(limits, temp_directory=path.parent / "tmp").apply(con)
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    return con


def _timed(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    start = time.perf_counter()
    con.execute(sql)
    con.execute("CHECKPOINT")
    return time.perf_counter() - start


def build_tables(con: duckdb.DuckDBPyConnection, min_rows: int) -> list[tuple[str, str]]:
    """(schema, table) of the base tables a full build writes, largest first (by DuckDB's estimate,
    which counts an incremental table's deleted rows too: the copies print exact counts)."""
    rows = con.execute(f"""
        select schema_name, table_name from duckdb_tables()
        where database_name = 'build' and schema_name in {BUILD_SCHEMAS} and estimated_size >= ?
        order by estimated_size desc""", [min_rows]).fetchall()
    return [(s, t) for s, t in rows]


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])  # type: ignore[index]


def mart_relations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every `marts` table and view of the build: what publish copies into the build file."""
    rows = con.execute("""
        select table_name from information_schema.tables
        where table_catalog = 'build' and table_schema = 'marts' order by table_name""").fetchall()
    return [r[0] for r in rows]


def measure(build_db: Path, scratch: Path, min_rows: int) -> list[Copy]:
    copies: list[Copy] = []
    con = _connect(scratch / "build_copy.duckdb")
    con.execute(f"ATTACH '{build_db}' AS build (READ_ONLY)")
    for schema, table in build_tables(con, min_rows):
        target = f"{schema}__{table}"
        seconds = _timed(con, f'CREATE TABLE "{target}" AS SELECT * FROM build."{schema}"."{table}"')
        rows = _count(con, target)
        copies.append(Copy("build", f"{schema}.{table}", rows, seconds))
        print(f"  build   {schema + '.' + table:<52} {rows:>12,} rows {seconds:7.2f} s", flush=True)
    con.close()
    con = _connect(scratch / "publish_copy.duckdb")
    con.execute(f"ATTACH '{build_db}' AS build (READ_ONLY)")
    for relation in mart_relations(con):
        seconds = _timed(con, f'CREATE TABLE "{relation}" AS SELECT * FROM build.marts."{relation}"')
        rows = _count(con, relation)
        parquet = scratch / f"{relation}.parquet"
        start = time.perf_counter()
        con.execute(f"COPY \"{relation}\" TO '{parquet}' (FORMAT parquet)")
        parquet_s = time.perf_counter() - start
        copies.append(Copy("publish", f"marts.{relation}", rows, seconds))
        copies.append(Copy("parquet", f"marts.{relation}", rows, parquet_s))
        print(f"  publish {'marts.' + relation:<52} {rows:>12,} rows {seconds:7.2f} s + parquet {parquet_s:.2f} s",
              flush=True)
    con.close()
    return copies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", type=Path, help="a bench_scale.py --keep folder (holding warehouse/ and landing/)")
    ap.add_argument("--min-rows", type=int, default=100_000, help="smallest build table counted")
    ap.add_argument("--landing", type=Path, help="the extracts the floor query reads (default: <root>/landing; "
                    "<root>/book, the whole book, matches a warehouse that loaded every day)")
    ap.add_argument("--no-floor", action="store_true", help="skip the floor query")
    args = ap.parse_args()
    build_db = args.root / "warehouse" / "build.duckdb"
    landing = args.landing or args.root / "landing"
    if not build_db.is_file():
        raise SystemExit(f"no build warehouse at {build_db}: run bench_scale.py --keep first")
    floor_s = None
    if not args.no_floor:
        if not (landing / "billing").is_dir():
            raise SystemExit(f"no landing zone at {landing} for the floor query (or pass --no-floor)")
        as_of = sorted(p.name for p in (landing / "billing").iterdir() if p.is_dir())[-1]
        floor_s, floor_rss = floor(landing, as_of, os.environ.get("KAM_REPORTING_CURRENCY", "CNY"))
        print(f"floor query: {floor_s:.1f} s, peak RSS {floor_rss:.2f} GiB", flush=True)
    with tempfile.TemporaryDirectory(prefix="kam-write-floor-", dir=args.root) as tmp:
        copies = measure(build_db, Path(tmp), args.min_rows)
    totals = {phase: sum(c.seconds for c in copies if c.phase == phase) for phase in ("build", "publish", "parquet")}
    total = sum(totals.values())
    print("write floor: " + ", ".join(f"{phase} {s:.1f} s" for phase, s in totals.items()) + f"; total {total:.1f} s")
    if floor_s:
        print(f"  write floor / floor {total / floor_s:6.2f}")
        print(f"  least full/floor    {(floor_s + total) / floor_s:6.2f}  (the floor's compute plus the writes, "
              "nothing else: no load validation, no tests, no dbt start-up)")


if __name__ == "__main__":
    main()
