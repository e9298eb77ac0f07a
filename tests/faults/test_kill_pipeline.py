"""The real pipeline (`kam run`, `kam publish`: real dbt, GX, DuckDB) SIGKILLed at a sample of points
across its steps, against two fresh warehouses built from the same extracts.

- two fresh warehouses publishing the same night give bit-identical marts and ops (table checksums,
  VOLATILE columns excluded), and contact data is HMAC-keyed: no plain sha256 of a known e-mail or
  phone anywhere in serving; the warehouse files have least-privilege modes;
- after each kill serving is unchanged (same bytes) or fully new; the reruns recover (killed runs are
  marked `killed`, a never-served build is deleted, parquet/CURRENT is repaired); the build served
  after the kills has the marts of an uninterrupted run; rollback goes to the build served before,
  never to the killed run's finalised build.
benchmarks/fault_inject.py runs many more points.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kam_warehouse.faults import ENV
from kam_warehouse.serving import builds, history
from kam_warehouse.serving.checksums import checksums, differing
from kam_warehouse.serving.parquet_export import read_pointer

pytestmark = pytest.mark.e2e

KAM = [sys.executable, "-m", "kam_warehouse"]

def kam(*args: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if fault is not None:
        env[ENV] = fault
    return subprocess.run([*KAM, *args], capture_output=True, text=True, env=env, timeout=1800)


def kam_killed(*args: str, fault: str) -> None:
    proc = kam(*args, fault=fault)
    assert proc.returncode == -signal.SIGKILL, f"not killed at {fault}: rc {proc.returncode}\n{proc.stderr[-2000:]}"


def served_run(db: Path) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT run_id FROM marts._publish_info").fetchone()
    assert row is not None
    return row[0]


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("faults") / "landing"
    gen = kam("demo-data", "--out", str(out), "--accounts", "25", "--months", "13", "--seed", "11", "--days", "1")
    assert gen.returncode == 0, gen.stderr
    return out


@pytest.fixture(scope="module")
def fresh_pair(landing: Path) -> tuple[Path, Path]:
    """Two fresh warehouses, each `kam run` once, uninterrupted, on the same extracts (in parallel)."""
    whs = (landing.parent / "wh_a", landing.parent / "wh_b")
    procs = [subprocess.Popen([*KAM, "run", "--landing", str(landing), "--warehouse", str(wh)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={k: v for k, v in os.environ.items() if k != ENV}) for wh in whs]
    for p in procs:
        _, err = p.communicate(timeout=1800)
        assert p.returncode == 0, err[-3000:]
    return whs


def test_two_fresh_warehouses_publish_bit_identical_tables(fresh_pair: tuple[Path, Path]) -> None:
    """The same extracts published by two fresh warehouses: every marts and ops table has the same
    checksum (only the run-id/clock columns in checksums.VOLATILE are left out, and the warehouse's
    own path, which the gate's dbt-results row names, is replaced by a placeholder), floats to the bit."""
    a, b = (checksums(wh / "serving.duckdb", locations={str(wh.resolve()): "<warehouse>"}) for wh in fresh_pair)
    assert len(a) > 20
    assert differing(a, b) == []


def _contact(landing: Path) -> tuple[str, str]:
    import csv

    for path in sorted(landing.glob("crm/*/contacts.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get("email") and row.get("phone"):
                    return row["email"], row["phone"]
    raise AssertionError(f"no contact with e-mail and phone under {landing}")


def test_contact_data_is_keyed_hashed_and_absent_from_serving(landing: Path, fresh_pair: tuple[Path, Path]) -> None:
    """A known contact's e-mail and phone: neither the value nor its plain sha256 (as hashed before,
    lower(trim(x))) appears in any string column of serving; staging holds HMAC-SHA256 under KAM_PII_KEY."""
    import hmac

    email, phone = _contact(landing)
    key = bytes.fromhex(os.environ["KAM_PII_KEY"])
    needles = {v for x in (email, phone) for v in (x, hashlib.sha256(x.strip().lower().encode()).hexdigest())}
    wh = fresh_pair[0]
    found = []
    with duckdb.connect(str(wh / "serving.duckdb"), read_only=True) as con:
        cols = con.execute("SELECT schema_name, table_name, column_name FROM duckdb_columns() "
                           "WHERE data_type = 'VARCHAR' AND schema_name IN ('marts', 'ops')").fetchall()
        for schema, table, col in cols:
            for needle in needles:
                hit = con.execute(f'SELECT count(*) FROM {schema}."{table}" WHERE contains("{col}", ?)',
                                  [needle]).fetchone()
                if hit and hit[0]:
                    found.append((schema, table, col, needle))
    assert found == []
    with duckdb.connect(str(wh / "build.duckdb"), read_only=True) as con:
        digests = {r for row in con.execute("SELECT email_sha256, phone_sha256 FROM staging.stg_crm__contacts")
                   .fetchall() for r in row}
    keyed = {hmac.new(key, x.strip().lower().encode(), hashlib.sha256).hexdigest() for x in (email, phone)}
    assert keyed <= digests
    assert not needles & digests


def test_warehouse_files_have_least_privilege_modes(fresh_pair: tuple[Path, Path]) -> None:
    """After a real run: build warehouse, builds, dbt logs/compiled SQL and run logs are the owner's
    only (0600/0700); serving and parquet are readable by the serving group (0640/0750), not others."""
    wh = fresh_pair[0]
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(wh / "build.duckdb") == 0o600
    for private in ("builds", "dbt", "logs", "data_docs"):
        assert mode(wh / private) == 0o700, private
        assert [p for p in (wh / private).rglob("*") if mode(p) & 0o077] == [], private
    assert mode(wh) == 0o750
    assert mode(wh / "serving.duckdb") == 0o640
    assert [p for p in (wh / "parquet").rglob("*") if mode(p) not in (0o640, 0o750)] == []


def test_kills_across_the_steps_leave_serving_whole_and_reruns_recover(
        landing: Path, fresh_pair: tuple[Path, Path]) -> None:
    """In F, a copy of warehouse A after its one uninterrupted run: kam run killed at the end of load,
    in the middle of dbt build, and after finalising its build (before the swap) — serving keeps its
    bytes; then
    kam publish killed right after the serving swap — serving is fully new, with the marts of an
    uninterrupted run, while CURRENT still names the old build; then kam publish --rollback recovers
    (records the swap, deletes the never-served build, repairs CURRENT) and goes back to the build
    served before; the killed runs are marked `killed`."""
    f = landing.parent / "wh_f"
    shutil.copytree(fresh_pair[0], f, symlinks=True)
    served_first, bytes_first = served_run(f / "serving.duckdb"), (f / "serving.duckdb").read_bytes()
    reference = checksums(fresh_pair[0] / "serving.duckdb", schemas=("marts",))

    for fault in ("step:load:end", "step:dbt_build:start+4", "publish:build_final"):
        # --rebuild: the same night again (a night with nothing new would skip dbt/gate/tiers/publish)
        kam_killed("run", "--rebuild", "--landing", str(landing), "--warehouse", str(f), fault=fault)
        assert (f / "serving.duckdb").read_bytes() == bytes_first, fault
    finalised = [b.name for b in builds.kept_builds(f / "builds") if b.run_id != served_first]
    assert len(finalised) == 1, "the run killed at publish:build_final left its finalised build"

    kam_killed("publish", "--warehouse", str(f), fault="serve:serving_swapped")
    swapped = served_run(f / "serving.duckdb")
    assert swapped != served_first
    assert checksums(f / "serving.duckdb", schemas=("marts",)) == reference
    assert read_pointer(f / "parquet") == builds.build_name(served_first)  # disagreement left by the kill

    back = kam("publish", "--rollback", "--warehouse", str(f))
    assert back.returncode == 0, back.stderr[-3000:]
    assert served_run(f / "serving.duckdb") == served_first
    assert read_pointer(f / "parquet") == builds.build_name(served_first)
    assert not (f / "builds" / f"{finalised[0]}.duckdb").exists()
    assert [(r.build, r.action) for r in history.read_history(f / "builds")][-2:] == [
        (builds.build_name(swapped), "recovered"), (builds.build_name(served_first), "rollback")]
    leftovers = [p for d in (f, f / "builds", f / "parquet") for p in d.glob(".*")
                 if p.name.endswith((".incoming", ".partial"))]
    assert leftovers == []

    again = kam("load", "--landing", str(landing), "--warehouse", str(f))  # any next step marks the killed runs
    assert again.returncode == 0, again.stderr[-3000:]
    with duckdb.connect(str(f / "build.duckdb"), read_only=True) as con:
        statuses = con.execute("SELECT step, status FROM ops.pipeline_runs WHERE status IN ('running', 'killed') "
                               "ORDER BY started_at").fetchall()
    assert statuses == [("load", "killed"), ("dbt_build", "killed"), ("publish", "killed")]
