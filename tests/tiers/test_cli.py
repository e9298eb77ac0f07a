"""`kam tiers` as a person runs it (through the `kam` entry point): explain resolves a member to its group
and names `unassigned` with its reason; override refuses unknown accounts and expiries not after the
data's as-of date; overrides are marked expired by the data's as-of date, not the wall clock; simulate
reports the groups and revenue that would change, writes nothing, and fails in one paragraph when a
writer holds the warehouse."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from kam_warehouse.cli import app
from kam_warehouse.tiers.state import ensure_tier_state

AS_OF = date(2020, 1, 10)  # long before the wall clock: expiry must be judged by the data, not today

#: group scores: (account, segment, revenue_t12m, revenue/potential/strategic/relationship scores)
GROUPS = [
    ("A1", "default", 1000.0, 100.0, 80.0, 60.0, 50.0),
    ("B1", "enterprise", 500.0, 50.0, None, 0.0, 100.0),
    ("C1", "default", 250.0, 25.0, 20.0, 0.0, None),
]


def _seed_scores(con: duckdb.DuckDBPyConnection) -> None:
    """The mart as dbt builds it (default weights 0.4/0.25/0.15/0.2, thresholds 80/60/35), computed here
    by hand for the three groups: A1 0.4*100+0.25*80+0.15*60+0.2*50 = 79 (key), B1 without potential
    (0.4*50+0.15*0+0.2*100)/0.75 = 53.33 (standard), C1 without relationship (10+5+0)/0.8 = 18.75 (other)."""
    con.execute("CREATE SCHEMA seeds")
    con.execute("CREATE TABLE seeds.tier_weights AS SELECT * FROM (VALUES ('default', 0.4, 0.25, 0.15, 0.2)) "
                "t(segment, w_revenue, w_potential, w_strategic, w_relationship)")
    con.execute("CREATE TABLE seeds.tier_thresholds AS SELECT * FROM (VALUES ('default', 80.0, 60.0, 35.0)) "
                "t(segment, threshold_strategic, threshold_key, threshold_standard)")
    con.execute("""
        CREATE TABLE marts.mart_account_tier_scores (
            account_id VARCHAR, segment VARCHAR, revenue_t12m DECIMAL(38, 6), revenue_score DOUBLE,
            potential_score DOUBLE, strategic_score DOUBLE, relationship_score DOUBLE, w_revenue DOUBLE,
            w_potential DOUBLE, w_strategic DOUBLE, w_relationship DOUBLE, score DOUBLE, proposed_tier VARCHAR,
            threshold_strategic DOUBLE, threshold_key DOUBLE, threshold_standard DOUBLE, missing_inputs VARCHAR,
            nine_box_cell VARCHAR, quadrant VARCHAR, play VARCHAR)""")
    rows = [
        ("A1", "default", 1000, 100, 80, 60, 50, 0.4, 0.25, 0.15, 0.2, 79.0, "key", "", "high/high"),
        ("B1", "enterprise", 500, 50, None, 0, 100, 0.4 / 0.75, 0, 0.15 / 0.75, 0.2 / 0.75, 160 / 3, "standard",
         "potential", "mid/low"),
        ("C1", "default", 250, 25, 20, 0, None, 0.5, 0.3125, 0.1875, 0, 18.75, "other", "relationship", "low/low"),
    ]
    con.executemany("INSERT INTO marts.mart_account_tier_scores VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 80, 60, 35, ?, ?, 'maintain', 'watch')", rows)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A build warehouse with a load manifest (as of 2020-01-10), accounts (A2 a member of A1), the score
    mart, the seeds and the tier state; A1 and B1 classified, C1 scored but not classified yet."""
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        ensure_tier_state(con)
        con.execute("CREATE SCHEMA raw; CREATE SCHEMA marts")
        con.execute("CREATE TABLE raw.load_manifest AS SELECT * FROM (VALUES (DATE '2020-01-09', 'loaded'), "
                    "(DATE '2020-01-10', 'loaded'), (DATE '2020-01-11', 'rejected')) t(extract_day, status)")
        con.execute("CREATE TABLE marts.dim_account AS SELECT * FROM (VALUES ('A1', 'A1'), ('A2', 'A1'), "
                    "('B1', 'B1'), ('C1', 'C1'), ('D1', 'D1')) t(account_id, group_id)")
        _seed_scores(con)
        con.execute("INSERT INTO tiers.account_tier_history VALUES "
                    "('A1', 'key', DATE '2020-01-01', NULL, 79, 'first classification: score 79.0 -> key', 'r', FALSE),"
                    "('B1', 'key', DATE '2020-01-01', NULL, 61, 'first classification: score 61.0 -> key', 'r', FALSE)")
    return tmp_path


def kam(warehouse: Path, *args: str):
    result = CliRunner().invoke(app, ["tiers", *args, "--warehouse", str(warehouse)])
    assert "Traceback" not in result.output
    return result


def test_explain_resolves_members_and_names_unassigned_with_its_reason(warehouse: Path) -> None:
    """A member account explains its group; a scored group without a tier row and an unscored account are
    both `unassigned`, each with its own reason."""
    out = kam(warehouse, "explain", "A2")
    assert out.exit_code == 0, out.output
    assert "member of group A1" in out.output and "current tier key" in out.output
    assert "proposed_tier        key" in out.output
    scored = kam(warehouse, "explain", "C1").output
    assert "current tier unassigned (scored 18.8 (proposes other) but not reclassified yet" in scored
    unscored = kam(warehouse, "explain", "D1").output
    assert "current tier unassigned (not scored: no revenue in the trailing 12 months and no open pipeline" \
        " as of 2020-01-10)" in unscored


def test_override_refuses_unknown_accounts_bad_dates_and_expiries_not_after_the_as_of_date(warehouse: Path) -> None:
    """Each refusal is one paragraph with exit status 1 and leaves tiers.tier_overrides empty."""
    base = ["override", "--tier", "strategic", "--reason", "board", "--set-by", "ann"]
    unknown = kam(warehouse, *base, "--expires-on", "2020-03-01", "ZZ9")
    assert unknown.exit_code == 1 and "'ZZ9' is not a CRM account" in unknown.output
    on_as_of = kam(warehouse, *base, "--expires-on", "2020-01-10", "A2")
    assert on_as_of.exit_code == 1
    assert "not after the data's as-of date 2020-01-10" in on_as_of.output
    sloppy = kam(warehouse, *base, "--expires-on", "2020-1-20", "A2")
    assert sloppy.exit_code != 0 and "YYYY-MM-DD" in sloppy.output
    bad_tier = kam(warehouse, "override", "A2", "--tier", "gold", "--reason", "x", "--set-by", "y",
                   "--expires-on", "2020-03-01")
    assert bad_tier.exit_code != 0 and "'gold' is not a tier" in bad_tier.output
    with duckdb.connect(str(warehouse / "build.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM tiers.tier_overrides").fetchone() == (0,)


def test_overrides_are_marked_expired_by_the_data_as_of_date(warehouse: Path) -> None:
    """An override set on a member lands on its group; one expiring 2020-01-20 is in force (the data is as of
    2020-01-10, although the wall clock is years later), one that expired 2020-01-05 is marked expired."""
    res = kam(warehouse, "override", "A2", "--tier", "strategic", "--reason", "board", "--set-by", "ann",
              "--expires-on", "2020-01-20")
    assert res.exit_code == 0, res.output
    assert "override set: A1 -> strategic through 2020-01-20" in res.output
    with duckdb.connect(str(warehouse / "build.duckdb")) as con:
        con.execute("INSERT INTO tiers.tier_overrides VALUES ('B1', 'other', 'old', 'bob', DATE '2020-01-05')")
    listed = kam(warehouse, "overrides").output
    assert "as of 2020-01-10" in listed
    assert any(line.startswith("A1") and "in force" in line for line in listed.splitlines())
    assert any(line.startswith("B1") and "expired (before the as-of date 2020-01-10)" in line
               for line in listed.splitlines())


def test_simulate_reports_changes_and_revenue_and_writes_nothing(warehouse: Path) -> None:
    """With the seeds' own weights and thresholds the simulation reproduces the mart: B1 (key now, score
    53.33 proposes standard: held) and C1 (unassigned -> other) differ from the current state. Raising
    the key threshold to 85 and giving all weight to revenue moves A1 (score 100) to strategic. The
    warehouse file is byte-identical afterwards."""
    db = warehouse / "build.duckdb"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    same = kam(warehouse, "simulate")
    assert same.exit_code == 0, same.output
    assert "2 group(s) would change tier, revenue_t12m 750.00 (42.9% of 1,750.00)" in same.output
    assert "key → standard: 1 group(s), revenue_t12m 500.00" in same.output
    assert "unassigned → other: 1 group(s), revenue_t12m 250.00" in same.output
    moved = kam(warehouse, "simulate", "--weights", "revenue=1,potential=0,strategic=0,relationship=0",
                "--thresholds", "strategic=85,key=60,standard=35")
    assert moved.exit_code == 0, moved.output
    a1 = next(line for line in moved.output.splitlines() if line.startswith("A1"))
    assert "79.0 → 100.0" in a1 and "key → strategic" in a1
    assert "3 group(s) would change tier" in moved.output  # B1 50 -> standard, C1 25 -> other
    assert "nothing was written" in moved.output
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_simulate_refuses_invalid_specs_in_one_paragraph(warehouse: Path) -> None:
    """Weights that do not sum to 1, thresholds out of order and unknown names are refused, naming why."""
    not_one = kam(warehouse, "simulate", "--weights", "revenue=0.9")
    assert not_one.exit_code == 1 and "weights of segment 'default' must each be in 0..1 and sum to 1" in not_one.output
    disorder = kam(warehouse, "simulate", "--thresholds", "enterprise:key=90")
    assert disorder.exit_code == 1 and "thresholds of segment 'enterprise' must be" in disorder.output
    unknown = kam(warehouse, "simulate", "--weights", "charm=1")
    assert unknown.exit_code == 1 and "'charm=1' is not NAME=VALUE" in unknown.output


@contextmanager
def another_process(script: str) -> Iterator[None]:
    """Run `script` in another Python process until the block ends; it prints one line once it holds
    what it holds (the warehouse file open for writing, the write lock)."""
    holder = subprocess.Popen([sys.executable, "-c", script + "\nprint('ready', flush=True)\ntime.sleep(60)\n"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        yield
    finally:
        holder.kill()
        holder.wait()


def test_simulate_while_a_writer_holds_the_warehouse_is_one_paragraph(warehouse: Path) -> None:
    """Another process with the file open for writing: simulate says the warehouse is busy, exit 1."""
    with another_process(f"import duckdb, time\ncon = duckdb.connect({str(warehouse / 'build.duckdb')!r})"):
        started = time.monotonic()
        busy = kam(warehouse, "simulate")
        assert busy.exit_code == 1
        assert "is busy" in busy.output and "Nothing was read or changed" in busy.output
        assert time.monotonic() - started < 30


def test_override_while_a_run_holds_the_write_lock_is_one_paragraph(warehouse: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`kam tiers override` during a run (the write lock held by another process) waits briefly, then says
    who holds the warehouse, exit 1, and records nothing."""
    from kam_warehouse.tiers import cli as tiers_cli

    monkeypatch.setattr(tiers_cli, "OVERRIDE_WAIT_SECONDS", 0.5)
    lock = warehouse / ".build.lock"
    with another_process("import time\nfrom pathlib import Path\nfrom kam_warehouse.locking import warehouse_lock\n"
                         f"held = warehouse_lock(Path({str(lock)!r}), owner='kam run (test)')\nheld.__enter__()"):
        busy = kam(warehouse, "override", "A2", "--tier", "strategic", "--reason", "board", "--set-by", "ann",
                   "--expires-on", "2020-03-01")
        assert busy.exit_code == 1 and "busy" in busy.output and "kam run (test)" in busy.output
    with duckdb.connect(str(warehouse / "build.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM tiers.tier_overrides").fetchone() == (0,)
