"""The nightly tier step at growing book sizes: wall time per night and per 1,000 groups.

    .venv/bin/python benchmarks/bench_tiers.py --groups 1000 20000 50000
    .venv/bin/python benchmarks/bench_tiers.py --warehouse data/warehouse   # a real built warehouse (copied)

Synthetic mode writes `marts.mart_account_tier_scores` rows for N groups (scores spread over 0..100,
per-segment thresholds) into a fresh DuckDB file and runs `kam_warehouse.tiers.reclassify` for five
nights: 1 every group classified for the first time (N history rows), 2 scores moved (many margin
moves, candidates), 3 the same scores again (consecutive-night moves), 4 with overrides on 1% of the
groups, 5 nothing changed. It prints each night's wall time and changes, and the cost per 1,000 groups,
which stays flat when the step grows linearly. Warehouse mode copies `build.duckdb`, clears the tier
state of the copy and times a first classification and a re-score night on the real mart.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from kam_warehouse.tiers import reclassify
from kam_warehouse.tiers.state import ensure_tier_state

NIGHT0 = date(2025, 6, 1)
CONFIG = "hysteresis:\n  margin: 2.0\n  consecutive_nights: 3\n"

#: what the mart's proposed_tier is for a score (the mart computes it in dbt; the benchmark fakes the mart)
PROPOSED = ("CASE WHEN score >= threshold_strategic THEN 'strategic' WHEN score >= threshold_key THEN 'key' "
            "WHEN score >= threshold_standard THEN 'standard' ELSE 'other' END")

SCORES_DDL = """
CREATE SCHEMA IF NOT EXISTS marts;
CREATE OR REPLACE TABLE marts.mart_account_tier_scores AS
SELECT account_id, score, threshold_strategic, threshold_key, threshold_standard, $proposed AS proposed_tier
FROM (
    SELECT 'G' || lpad(CAST(i AS VARCHAR), 7, '0') AS account_id,
           least(100, greatest(0, (hash(i * 7919 + $seed) % 10000) / 100.0 + $shift)) AS score,
           80.0 AS threshold_strategic, 60.0 AS threshold_key, 35.0 AS threshold_standard
    FROM range($groups) AS t(i)
)
"""


def write_scores(db: Path, groups: int, seed: int, shift: float) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute(SCORES_DDL.replace("$proposed", PROPOSED).replace("$groups", str(groups)).replace("$seed", str(seed))
                    .replace("$shift", str(shift)))


def add_overrides(db: Path, expires: date) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO tiers.tier_overrides SELECT account_id, 'strategic', 'bench', 'bench', ? "
                    "FROM marts.mart_account_tier_scores USING SAMPLE 1 PERCENT (bernoulli, 7)", [expires])


def timed_night(db: Path, config: Path, day: date) -> tuple[float, int]:
    started = time.perf_counter()
    result = reclassify(db, run_id=f"bench-{day}", as_of=day, config_dir=config)
    return time.perf_counter() - started, result.changes


def synthetic(groups: int, work: Path) -> None:
    db = work / f"tiers_{groups}.duckdb"
    config = work / "config"
    config.mkdir(exist_ok=True)
    (config / "tiers.yml").write_text(CONFIG)
    with duckdb.connect(str(db)) as con:
        ensure_tier_state(con)
    nights = [("first classification", 1, 0.0), ("scores moved", 2, 0.0), ("same again", 2, 0.0),
              ("1% overrides", 2, 0.0), ("nothing new", 2, 0.0)]
    cells, seconds_per_night = [], []
    for n, (label, seed, shift) in enumerate(nights):
        day = NIGHT0 + timedelta(days=n)
        write_scores(db, groups, seed, shift)
        if label == "1% overrides":
            add_overrides(db, day + timedelta(days=30))
        seconds, changes = timed_night(db, config, day)
        seconds_per_night.append(seconds)
        cells.append(f"{label}: {seconds:6.2f} s ({changes:>6} changes)")
    per_1k = 1000 * max(seconds_per_night) / groups
    print(f"{groups:>7} groups | " + " | ".join(cells) + f" | slowest night {per_1k:.3f} s per 1k groups", flush=True)


def from_warehouse(warehouse: Path, work: Path) -> None:
    db = work / "build.duckdb"
    shutil.copy(warehouse / "build.duckdb", db)
    config = work / "config"
    config.mkdir(exist_ok=True)
    (config / "tiers.yml").write_text(CONFIG)
    with duckdb.connect(str(db)) as con:
        ensure_tier_state(con)
        for table in ("account_tier_history", "tier_candidates", "tier_runs", "tier_overrides"):
            con.execute(f"DELETE FROM tiers.{table}")
        (groups,) = con.execute("SELECT count(*) FROM marts.mart_account_tier_scores").fetchone()
        (as_of,) = con.execute("SELECT max(as_of_date) FROM marts.mart_account_tier_scores").fetchone()
    first, changes = timed_night(db, config, as_of)
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE marts.mart_account_tier_scores SET score = least(100, score + 3)")
        con.execute(f"UPDATE marts.mart_account_tier_scores SET proposed_tier = {PROPOSED}")
    second, moved = timed_night(db, config, as_of + timedelta(days=1))
    print(f"{warehouse}: {groups} groups | first classification {first:.2f} s ({changes} changes) | "
          f"scores +3 {second:.2f} s ({moved} changes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, nargs="*", default=[1000, 20000, 50000])
    parser.add_argument("--warehouse", type=Path, help="time the step on a copy of this warehouse's build.duckdb")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_tiers_") as tmp:
        if args.warehouse:
            from_warehouse(args.warehouse, Path(tmp))
            return
        for groups in args.groups:
            synthetic(groups, Path(tmp))


if __name__ == "__main__":
    main()
