"""Nights at scale: a full build, one delta night and a no-change night, next to the one-query floor.

    .venv/bin/python benchmarks/bench_scale.py --accounts 10000 --months 36 --days 3
    .venv/bin/python benchmarks/bench_scale.py --accounts 1000 5000 --keep /tmp/kam-scale

For each book size it generates one extendable book (`--days D+1`, see the generator's horizon: the
`--days D` book is its prefix byte for byte), then, in one fresh warehouse:
1. full build: `kam run` over the first D day folders (the full-history folder plus D-1 deltas);
2. delta night: the last day folder is added to the landing zone, `kam run` again;
3. no-change night: `kam run` once more with nothing new (it publishes nothing, kam_warehouse.night_inputs);
4. forced rebuild: `kam run --rebuild` with nothing new (every step runs: what a no-change night cost
   before it could skip);
and times the floor (benchmarks/floor_query.sql: one hand-written DuckDB query over the same raw CSVs)
on the D-day landing zone in the same run. Prints per night the wall time, each step's duration (from
the run log, `ops.pipeline_runs`), the peak RSS of the `kam run` process tree, and the ratios the
targets are set on (issue 17, 2 cores, 10M invoice lines): full/floor <= 3, delta/full <= 0.10,
no-change <= 10 s, peak RSS <= 4 GiB.

Run it from a checkout nobody edits while it runs (`git clone` the tree first): each `kam run` imports
the pipeline's modules lazily, step by step, so an edit mid-run mixes two versions in one process.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
KAM = REPO / ".venv" / "bin" / "kam"
FLOOR_SQL = Path(__file__).with_name("floor_query.sql")
SLOWEST_NODES = 8
TARGETS = {"full/floor": 3.0, "delta/full": 0.10, "no-change s": 10.0, "peak RSS GiB": 4.0}


@dataclass
class Night:
    name: str
    wall_s: float
    peak_rss_gib: float
    steps: dict[str, float] = field(default_factory=dict)
    exit_code: int = 0


def generate(out: Path, accounts: int, months: int, days: int, seed: int) -> int:
    """The extendable book; returns its invoice-line count."""
    subprocess.run([str(KAM), "demo-data", "--out", str(out), "--accounts", str(accounts), "--months",
                    str(months), "--seed", str(seed), "--days", str(days)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lines = 0
    for f in out.glob("billing/*/invoice_lines.csv"):
        with f.open("rb") as fh:
            lines += sum(chunk.count(b"\n") for chunk in iter(lambda fh=fh: fh.read(1 << 24), b"")) - 1
    return lines


def stage_landing(book: Path, landing: Path, days: list[str]) -> None:
    """Hard-link the given day folders of the book into the landing zone (no copies, no symlinks:
    symlinks that leave the landing root are refused by ingest)."""
    for source_dir in sorted(p for p in book.iterdir() if p.is_dir()):
        for day in days:
            src = source_dir / day
            if src.is_dir() and not (landing / source_dir.name / day).exists():
                shutil.copytree(src, landing / source_dir.name / day, copy_function=os.link)


def run_night(name: str, landing: Path, warehouse: Path, log: Path, *extra: str) -> Night:
    """`kam run` as a child process: wall time, peak RSS and the step durations."""
    env = dict(os.environ)  # KAM_PII_KEY: set once in main(), the same key every night as in production
    start, started_at = time.perf_counter(), time.time()
    with log.open("ab") as out:
        proc = subprocess.Popen([str(KAM), "run", "--landing", str(landing), "--warehouse", str(warehouse),
                                 *extra], stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    _keep_run_results(warehouse, log.with_name(name.replace(" ", "-") + ".run_results.json"), started_at)
    # wait4's usage is the child's own, maxed with its reaped descendants' (dbt and GX run in-process)
    return Night(name, wall, usage.ru_maxrss / 1024 / 1024, _step_durations(warehouse),
                 os.waitstatus_to_exitcode(status))


def _keep_run_results(warehouse: Path, dest: Path, since: float) -> None:
    """Keep the night's dbt run_results.json (the next night overwrites it) and print its slowest nodes."""
    results = warehouse / "dbt" / "last_build" / "run_results.json"
    if not results.is_file() or results.stat().st_mtime < since:
        return
    shutil.copyfile(results, dest)
    nodes = json.loads(results.read_text())["results"]
    slowest = sorted(nodes, key=lambda r: -float(r.get("execution_time") or 0))[:SLOWEST_NODES]
    print(f"  {dest.name}: {len(nodes)} nodes, {sum(float(r.get('execution_time') or 0) for r in nodes):.1f} s; "
          "slowest: " + ", ".join(f"{r['unique_id'].split('.')[-1]} {float(r['execution_time']):.1f}"
                                 for r in slowest), flush=True)


def _step_durations(warehouse: Path) -> dict[str, float]:
    """Durations of the latest run's steps from the build warehouse's run log."""
    db = warehouse / "build.duckdb"
    if not db.exists():
        return {}
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            rows = con.execute("""
                select step, duration_s from ops.pipeline_runs
                where run_id = (select run_id from ops.pipeline_runs order by started_at desc limit 1)
                order by started_at""").fetchall()
    except duckdb.Error:
        return {}
    return {step: float(d or 0.0) for step, d in rows}


def _done(night: Night) -> Night:
    """Print a night as soon as it ends (a 100M-line night runs for most of an hour), then return it."""
    steps = ", ".join(f"{step} {seconds:.1f}" for step, seconds in night.steps.items())
    print(f"  {night.name}: {night.wall_s:.1f} s wall, peak RSS {night.peak_rss_gib:.2f} GiB, exit "
          f"{night.exit_code}; steps: {steps or 'none recorded'}", flush=True)
    return night


#: the floor query's own process: run here, DuckDB would grow this benchmark's process by gigabytes, and
#: Linux carries a process's peak RSS across fork and exec into every `kam run` started after it
FLOOR_RUNNER = ("import sys, duckdb; con = duckdb.connect(); con.execute('SET enable_progress_bar = false'); "
                "con.execute(sys.stdin.read()).fetchall(); con.close()")


def floor(landing: Path, as_of: str, currency: str) -> tuple[float, float]:
    """Seconds and peak RSS (GiB) of the floor query, in a child process of its own."""
    sql = FLOOR_SQL.read_text().replace("{root}", str(landing)).replace("{ccy}", currency).replace("{as_of}", as_of)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", FLOOR_RUNNER], stdin=subprocess.PIPE)
    proc.stdin.write(sql.encode())  # type: ignore[union-attr]
    proc.stdin.close()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"the floor query failed (exit {os.waitstatus_to_exitcode(status)})")
    return time.perf_counter() - start, usage.ru_maxrss / 1024 / 1024


def bench(accounts: int, months: int, days: int, seed: int, root: Path) -> None:
    book, landing, warehouse = root / "book", root / "landing", root / "warehouse"
    t0 = time.perf_counter()
    lines = generate(book, accounts, months, days + 1, seed)
    gen_s = time.perf_counter() - t0
    all_days = sorted(p.name for p in (book / "billing").iterdir() if p.is_dir())
    first, last = all_days[:-1], all_days[-1]
    stage_landing(book, landing, first)
    log = root / "kam-run.log"
    print(f"\n== {accounts:,} accounts x {months} months: {lines:,} invoice lines "
          f"(generated in {gen_s:.0f} s, {lines / gen_s:,.0f} lines/s); log {log}", flush=True)
    floor_s, floor_rss = floor(landing, first[-1], os.environ.get("KAM_REPORTING_CURRENCY", "CNY"))
    print(f"floor query: {floor_s:.1f} s, peak RSS {floor_rss:.2f} GiB", flush=True)
    nights = [_done(run_night("full build", landing, warehouse, log))]
    stage_landing(book, landing, [last])
    nights.append(_done(run_night("delta night", landing, warehouse, log)))
    nights.append(_done(run_night("no-change night", landing, warehouse, log)))
    nights.append(_done(run_night("forced rebuild", landing, warehouse, log, "--rebuild")))
    step_names = list(dict.fromkeys(s for n in nights for s in n.steps))
    print(f"{'night':<16} {'wall s':>8} {'RSS GiB':>8} {'exit':>4}  " + " ".join(f"{s[:10]:>10}" for s in step_names))
    for n in nights:
        print(f"{n.name:<16} {n.wall_s:8.1f} {n.peak_rss_gib:8.2f} {n.exit_code:>4}  "
              + " ".join(f"{n.steps.get(s, 0.0):10.1f}" for s in step_names))
    full, delta, nochange, rebuild = nights
    print(f"  no-change/forced rebuild {nochange.wall_s / rebuild.wall_s:8.2f}", flush=True)
    figures = {"full/floor": full.wall_s / floor_s, "delta/full": delta.wall_s / full.wall_s,
               "no-change s": nochange.wall_s, "peak RSS GiB": max(n.peak_rss_gib for n in nights)}
    for key, value in figures.items():
        verdict = "ok" if value <= TARGETS[key] else "over target"
        print(f"  {key:<13} {value:8.2f}  (target <= {TARGETS[key]:g}: {verdict})")
    if any(n.exit_code for n in nights):
        print(f"  a night exited non-zero: see {log}", file=sys.stderr)


def main() -> None:
    os.environ.setdefault("KAM_PII_KEY", secrets.token_hex(32))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, nargs="+", default=[1000])
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--days", type=int, default=3, help="delta days of the full build (the delta night adds one)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--keep", type=Path, help="work folder to keep (default: a temp folder, removed)")
    args = ap.parse_args()
    for accounts in args.accounts:
        if args.keep:
            root = args.keep / f"a{accounts}"
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            bench(accounts, args.months, args.days, args.seed, root)
        else:
            with tempfile.TemporaryDirectory(prefix="kam-scale-") as tmp:
                bench(accounts, args.months, args.days, args.seed, Path(tmp))


if __name__ == "__main__":
    main()
