"""kill -9 the pipeline at many points and count what survives (issue 18).

    .venv/bin/python benchmarks/fault_inject.py                      # every point
    .venv/bin/python benchmarks/fault_inject.py --points step:dbt_build:start+5 serve:serving_swapped
    .venv/bin/python benchmarks/fault_inject.py --keep /tmp/kam-faults --accounts 40 --months 13

One landing zone (generated), one baseline warehouse that has served one build (`kam run`), then for
each fault point (kam_warehouse.faults; `--list` prints them), on a copy of the baseline:
1. the command is run with KAM_FAULT_POINT set and must die of SIGKILL: `kam run` for the points of the
   pipeline steps, `kam publish` for those inside publish, `kam publish --rollback` for rollback;
2. serving must be *unchanged* (same bytes) or *fully new* (another run's build whose marts equal the
   baseline's, table checksums), never anything else;
3. the same command is rerun without the fault and must succeed: no temporary file left, CURRENT and
   the served history agree with serving.duckdb, every kept build was served, no `running` row left
   (killed ones marked `killed`), marts equal to the baseline's (an uninterrupted run of the same night);
4. `kam publish --rollback` must go to the build served just before the current one (for the
   rollback points: the rerun, `kam publish --rollback --to <first build>`, must reach it).
Prints one line per point and the counts. Needs KAM_PII_KEY (or runs as KAM_ENV=test with a throw-away key).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from kam_warehouse.faults import ENV
from kam_warehouse.pipeline import STEPS
from kam_warehouse.serving import builds, history
from kam_warehouse.serving.checksums import checksums, differing
from kam_warehouse.serving.parquet_export import read_pointer
from kam_warehouse.serving.publish import ALL_POINTS

KAM = [sys.executable, "-m", "kam_warehouse"]
MID_STEP = ("step:load:start+1", "step:dbt_build:start+5", "step:dbt_build:start+20",
            "step:quality_gate:start+2", "step:tiers:start+1")
ROLLBACK_POINTS = ("rollback:copy:incoming_written", "rollback:serve:serving_swapped",
                   "rollback:serve:pointer_switched")


def all_points() -> list[str]:
    steps = [f"step:{s}:{edge}" for s in STEPS for edge in ("start", "end")]
    return [*steps, *MID_STEP, *ALL_POINTS, *ROLLBACK_POINTS]


@dataclass
class Outcome:
    point: str
    killed: bool = False
    serving: str = "?"          # unchanged | new | broken
    rerun_ok: bool = False
    recovered: bool = False
    marts_equal: bool = False
    rollback_ok: bool = False
    seconds: float = 0.0
    note: str = ""

    @property
    def passed(self) -> bool:
        return (self.killed and self.serving in ("unchanged", "new") and self.rerun_ok and self.recovered
                and self.marts_equal and self.rollback_ok)


def kam(args: list[str], fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if fault:
        env[ENV] = fault
    return subprocess.run([*KAM, *args], capture_output=True, text=True, env=env, timeout=3600)


def command(point: str, landing: Path, wh: Path) -> tuple[list[str], str]:
    if point.startswith("rollback:"):
        return ["publish", "--rollback", "--warehouse", str(wh)], point.removeprefix("rollback:")
    if point.startswith("step:"):
        # --rebuild: the baseline's night again (a night with nothing new would skip dbt/gate/tiers/publish)
        return ["run", "--rebuild", "--landing", str(landing), "--warehouse", str(wh)], point
    return ["publish", "--warehouse", str(wh)], point


def served(wh: Path) -> str | None:
    info = builds.served_build(wh / "serving.duckdb")
    return info.run_id if info else None


def consistent(wh: Path) -> str:
    """'' when the warehouse is consistent after a rerun, else what is wrong."""
    temps = [p.name for d in (wh, wh / "builds", wh / "parquet") if d.is_dir() for p in d.glob(".*")
             if p.name.endswith((".incoming", ".partial"))]
    name = builds.build_name(served(wh) or "")
    problems = [f"temporaries {temps}"] if temps else []
    if read_pointer(wh / "parquet") != name:
        problems.append(f"CURRENT={read_pointer(wh / 'parquet')} serving={name}")
    last = history.last_served(wh / "builds")
    if last is None or last.build != name:
        problems.append(f"history last={last.build if last else None}")
    unserved = {b.name for b in builds.kept_builds(wh / "builds")} - history.served_names(wh / "builds")
    if unserved:
        problems.append(f"never-served builds kept {sorted(unserved)}")
    with duckdb.connect(str(wh / "build.duckdb"), read_only=True) as con:
        running = con.execute("SELECT count(*) FROM ops.pipeline_runs WHERE status = 'running'").fetchone()
    if running and running[0]:
        problems.append(f"{running[0]} run-log row(s) still running")
    return "; ".join(problems)


def run_point(point: str, landing: Path, baseline: Path, work: Path, reference: dict[str, str]) -> Outcome:
    out = Outcome(point)
    t0 = time.monotonic()
    wh = work / "wh"
    shutil.rmtree(wh, ignore_errors=True)
    shutil.copytree(baseline, wh, symlinks=True)
    before_bytes, before_run = (wh / "serving.duckdb").read_bytes(), served(wh)
    if point.startswith("rollback:"):  # a rollback needs a second served build to leave
        assert kam(["publish", "--warehouse", str(wh)]).returncode == 0
        before_bytes, before_run = (wh / "serving.duckdb").read_bytes(), served(wh)
    args, fault = command(point, landing, wh)
    proc = kam(args, fault)
    out.killed = proc.returncode == -signal.SIGKILL
    if not out.killed:
        out.note = f"rc {proc.returncode}: {proc.stderr.strip()[-200:]}"
    if (wh / "serving.duckdb").read_bytes() == before_bytes:
        out.serving = "unchanged"
    else:
        try:
            whole = served(wh) not in (None, before_run) and not differing(
                checksums(wh / "serving.duckdb", schemas=("marts",)), reference)
        except duckdb.Error as exc:
            whole, out.note = False, str(exc)
        out.serving = "new" if whole else "broken"
    history_before_rerun = [r.build for r in history.read_history(wh / "builds")]
    rollback_target = builds.build_name(builds.read_info(baseline / "serving.duckdb").run_id)
    rerun = kam([*args, "--to", rollback_target] if point.startswith("rollback:") else args)
    out.rerun_ok = rerun.returncode == 0
    if not out.rerun_ok:
        out.note += f" rerun rc {rerun.returncode}: {rerun.stderr.strip()[-300:]}"
        out.seconds = time.monotonic() - t0
        return out
    if not point.startswith("step:"):  # a publish-only rerun does not write the run log: any step does
        kam(["load", "--landing", str(landing), "--warehouse", str(wh)])
    problem = consistent(wh)
    out.recovered = problem == ""
    out.note += problem
    out.marts_equal = not differing(checksums(wh / "serving.duckdb", schemas=("marts",)), reference)
    if point.startswith("rollback:"):  # the rerun was the rollback: it must have reached its target
        out.rollback_ok = builds.build_name(served(wh) or "") == rollback_target
        out.seconds = time.monotonic() - t0
        return out
    served_order = [r.build for r in history.read_history(wh / "builds")]
    kept = {b.name for b in builds.kept_builds(wh / "builds")}
    current = builds.build_name(served(wh) or "")
    candidates = [b for b in builds.kept_builds(wh / "builds") if b.name in set(served_order) and b.name != current
                  and b.published_at < builds.served_build(wh / "serving.duckdb").published_at]
    back = kam(["publish", "--rollback", "--warehouse", str(wh)])
    expected = candidates[-1].name if candidates else None
    got = builds.build_name(served(wh) or "")
    out.rollback_ok = back.returncode == 0 and got == expected and got in kept
    if not out.rollback_ok:
        out.note += f" rollback went to {got}, expected {expected} (history before rerun {history_before_rerun})"
    out.seconds = time.monotonic() - t0
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", nargs="*", help="fault points (default: every point, see --list)")
    parser.add_argument("--list", action="store_true", help="print the points and exit")
    parser.add_argument("--accounts", type=int, default=25)
    parser.add_argument("--months", type=int, default=13)
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temp folder, removed)")
    args = parser.parse_args()
    points = args.points or all_points()
    if args.list:
        print("\n".join(all_points()))
        return 0
    if not os.environ.get("KAM_PII_KEY"):
        os.environ.setdefault("KAM_ENV", "test")
        os.environ["KAM_PII_KEY"] = secrets.token_hex(32)
    root = args.keep or Path(tempfile.mkdtemp(prefix="kam-faults-"))
    root.mkdir(parents=True, exist_ok=True)
    landing, baseline = root / "landing", root / "baseline"
    try:
        if not landing.exists():
            gen = kam(["demo-data", "--out", str(landing), "--accounts", str(args.accounts),
                       "--months", str(args.months), "--seed", "11", "--days", "1"])
            assert gen.returncode == 0, gen.stderr
        if not (baseline / "serving.duckdb").exists():
            first = kam(["run", "--landing", str(landing), "--warehouse", str(baseline)])
            assert first.returncode == 0, first.stderr[-3000:]
        reference = checksums(baseline / "serving.duckdb", schemas=("marts",))
        outcomes = []
        for point in points:
            o = run_point(point, landing, baseline, root, reference)
            outcomes.append(o)
            print(f"{'ok  ' if o.passed else 'FAIL'} {o.point:38} killed={o.killed!s:5} serving={o.serving:9} "
                  f"rerun={o.rerun_ok!s:5} recovered={o.recovered!s:5} marts_equal={o.marts_equal!s:5} "
                  f"rollback={o.rollback_ok!s:5} {o.seconds:6.1f}s {o.note}".rstrip(), flush=True)
        n = len(outcomes)
        count = lambda pred: sum(1 for o in outcomes if pred(o))  # noqa: E731
        print(f"\npoints {n}: killed {count(lambda o: o.killed)}, serving unchanged "
              f"{count(lambda o: o.serving == 'unchanged')} / fully new {count(lambda o: o.serving == 'new')} / "
              f"broken {count(lambda o: o.serving not in ('unchanged', 'new'))}, rerun recovered "
              f"{count(lambda o: o.rerun_ok and o.recovered)}, marts equal to an uninterrupted run "
              f"{count(lambda o: o.marts_equal)}, rollback to the previously served build "
              f"{count(lambda o: o.rollback_ok)}; all checks passed {count(lambda o: o.passed)}/{n}")
        return 0 if all(o.passed for o in outcomes) else 1
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
