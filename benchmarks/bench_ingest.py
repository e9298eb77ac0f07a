"""Ingest throughput vs DuckDB's bare CSV load, on the same synthesized invoice_lines day folder.

    .venv/bin/python benchmarks/bench_ingest.py --rows 2000000

Prints rows/s of `ingest.load.load_day` (hash, casts, checks, references, duplicates, lineage,
manifest) and of `CREATE TABLE t AS SELECT * FROM read_csv(...)` over the same files, their ratio
(target >= 0.5), the load's per-phase wall time (from the `ingest.timing` log records) and a check that
every loaded row's `_line_number` is its physical line.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb

from ingest.load import load_day
from ingest.schema import ensure_raw_schema

DAY = date(2025, 1, 1)


def synthesize(folder: Path, rows: int, invoices: int) -> None:
    """Write invoices.csv and invoice_lines.csv (+ _SUCCESS) with DuckDB (fast, deterministic)."""
    folder.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT 'INV' || i AS invoice_id, 'A' || (i % 500) AS account_id,
            DATE '2025-01-01' AS invoice_date, DATE '2025-01-31' AS due_date, 'CNY' AS currency,
            'issued' AS status, TIMESTAMP '2025-01-01 10:00:00' AS updated_at
        FROM range({invoices}) t(i)) TO '{folder / "invoices.csv"}' (HEADER)""")
    con.execute(f"""COPY (SELECT 'L' || i AS invoice_line_id, 'INV' || (i % {invoices}) AS invoice_id,
            'P' || (i % 40) AS product_code, 'service, tier ' || (i % 7) AS description,
            (i % 9 + 1)::DECIMAL(18,4) AS quantity, 12.5::DECIMAL(18,4) AS unit_price,
            ((i % 9 + 1) * 12.5)::DECIMAL(18,4) AS amount, DATE '2025-01-01' AS service_start,
            DATE '2025-12-31' AS service_end, TIMESTAMP '2025-01-01 10:00:00' AS updated_at
        FROM range({rows}) t(i)) TO '{folder / "invoice_lines.csv"}' (HEADER)""")
    con.close()
    (folder / "_SUCCESS").write_bytes(b"")


def bare_load(folder: Path, db: Path) -> float:
    start = time.perf_counter()
    with duckdb.connect(str(db)) as con:
        for name in ("invoices", "invoice_lines"):
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv('{folder / (name + '.csv')}')")
    return time.perf_counter() - start


class PhaseTimes(logging.Handler):
    """Sums the `ingest.timing` phase records of a load."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seconds: dict[str, float] = defaultdict(float)

    def emit(self, record: logging.LogRecord) -> None:
        self.seconds[getattr(record, "phase", "?")] += float(getattr(record, "seconds", 0.0))


def ingest_load(landing: Path, db: Path, rejected: Path) -> float:
    with duckdb.connect(str(db)) as con:  # the accounts the invoices reference, outside the timing
        ensure_raw_schema(con)
        con.execute("INSERT INTO raw.crm__accounts (account_id) SELECT 'A' || i FROM range(500) t(i)")
    timing, phases = logging.getLogger("ingest.timing"), PhaseTimes()
    timing.addHandler(phases)
    timing.setLevel(logging.DEBUG)
    start = time.perf_counter()
    try:
        load_day(landing, db, source="billing", day=DAY, run_id="bench", rejected_dir=rejected)
    finally:
        elapsed = time.perf_counter() - start
        timing.removeHandler(phases)
    with duckdb.connect(str(db)) as con:
        loaded, quarantined = con.execute(
            "SELECT sum(rows_loaded), sum(rows_quarantined) FROM raw.load_manifest").fetchone() or (0, 0)
        misplaced = con.execute(  # L<i> is written on physical line i + 2
            "SELECT count(*) FROM raw.billing__invoice_lines "
            "WHERE _line_number <> substr(invoice_line_id, 2)::BIGINT + 2").fetchone()
    print(f"  ingest: {loaded} rows loaded, {quarantined} quarantined, "
          f"{misplaced[0] if misplaced else '?'} with a wrong _line_number")
    for name, seconds in phases.seconds.items():
        print(f"    {name:45s} {seconds:6.2f} s")
    print(f"    {'other (connect, manifest, commit)':45s} {elapsed - sum(phases.seconds.values()):6.2f} s")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--invoices", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kam-bench-") as tmp:
        root = Path(tmp)
        folder = root / "landing" / "billing" / DAY.isoformat()
        synthesize(folder, args.rows, args.invoices)
        size = sum(p.stat().st_size for p in folder.glob("*.csv")) / 1e6
        total = args.rows + args.invoices
        print(f"{args.rows} invoice_lines + {args.invoices} invoices, {size:.0f} MB CSV")
        bare = bare_load(folder, root / "bare.duckdb")
        ours = ingest_load(root / "landing", root / "ingest.duckdb", root / "rejected")
        print(f"bare read_csv CTAS : {bare:6.2f} s  {total / bare:12,.0f} rows/s")
        print(f"ingest load_day    : {ours:6.2f} s  {total / ours:12,.0f} rows/s")
        print(f"ratio ingest/bare  : {bare / ours:.2f} (target >= 0.5)")


if __name__ == "__main__":
    main()
