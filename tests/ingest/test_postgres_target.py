"""Ingest into a PostgreSQL build warehouse (issue 16): files are read and checked on embedded DuckDB in
a local working file, and each (source, day) is copied to PostgreSQL in one target transaction.

Shown here: good days, a rejected file and quarantined rows land in PostgreSQL as on DuckDB; a rerun
is a no-op; a process killed between the working file's commit and the target's commit (or inside the
target's transaction) recovers exactly on the next load; a missing working file is rebuilt from the
target, and a target restored to an earlier state is the truth; a target that fails mid-load stops
the load with nothing half-copied; and the raw tables on PostgreSQL equal, row for row and type for
type, the raw tables of a DuckDB load of the same generated landing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import ingest.working as working
from ingest.errors import FileRejected
from ingest.landing import loaded_through, pending_days
from ingest.load import load_day, load_landing
from ingest.schema import raw_tables
from ingest.working import TARGET_COPIED, WORKING_COMMITTED, TargetSyncError, fingerprint
from kam_warehouse.core.warehouse import Warehouse, WarehouseTarget, connect, locate

if TYPE_CHECKING:
    from conftest import LandingBuilder

generator = pytest.importorskip("sample_extracts")

REPO = Path(__file__).resolve().parents[2]
#: columns that hold the wall-clock time of the load (differ between two loads of the same landing)
LOAD_TIME = frozenset({"_loaded_at", "loaded_at", "quarantined_at"})
#: columns that name the run (differ when a day loads in a later run than in the reference)
RUN = frozenset({"_batch_id", "batch_id", "run_id"})
TABLES = [t for t, _c in raw_tables()]


@dataclass(frozen=True)
class Pg:
    """A fresh PostgreSQL build database and the working file ingest uses for it."""

    build: Warehouse
    working_db: Path


@pytest.fixture
def pg(pg_warehouse_url, tmp_path: Path) -> Pg:
    state = tmp_path / "pg_state"
    return Pg(locate(pg_warehouse_url(), state).build, state / "ingest.duckdb")


def _load(landing: Path, pg: Pg, run_id: str, rejected: Path) -> object:
    return load_landing(landing, pg.build, run_id=run_id, rejected_dir=rejected, working_db=pg.working_db)


def raw_rows(target: WarehouseTarget, table: str, drop: Iterable[str] = ()) -> list[tuple]:
    """Every row of a raw table without the `drop` columns, in a stable order."""
    dropped = set(drop)
    with connect(target, read_only=True) as con:
        names = [c for c, _t in con.columns(*table.split(".")) if c not in dropped]
        rows = con.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall()
    return sorted(rows, key=repr)


def snapshot(target: WarehouseTarget, drop: Iterable[str] = ()) -> dict[str, list[tuple]]:
    return {t: raw_rows(target, t, drop) for t in TABLES}


def assert_working_equals_target(pg: Pg) -> None:
    """The working file is an exact replica of the target's raw schema (load times included)."""
    assert snapshot(pg.working_db) == snapshot(pg.build)


def _count(target: WarehouseTarget, sql: str) -> int:
    with connect(target, read_only=True) as con:
        return int(con.scalar(sql))


def _small_landing(lz: LandingBuilder) -> None:
    """crm day 1 + 2, billing day 1 with one quarantined line, billing day 2 with a rejected file."""
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    lz.write_day("crm", lz.DAY2, {"accounts.csv": lz.csv_text([{**lz.ACCOUNT, "account_id": "A9"}])})
    files = lz.valid_billing()
    files["invoice_lines.csv"] = str(files["invoice_lines.csv"]) + lz.line(quantity="-1")
    lz.write_day("billing", lz.DAY1, files)
    no_amount = [c for c in lz.LINE if c != "amount"]
    lz.write_day("billing", lz.DAY2, {
        "invoices.csv": lz.csv_text([{**lz.INVOICE, "invoice_id": "I7"}]),
        "invoice_lines.csv": lz.csv_text(lz.rows_of(lz.LINE, 2, "invoice_line_id", "M"), header=no_amount),
    })


def test_landing_with_quarantine_and_rejection_on_postgres(
    lz: LandingBuilder, pg: Pg, rejected: Path
) -> None:
    """Good days load, a bad line is quarantined with its text, a file missing a column rejects its day
    (manifest + whole-file quarantine row + 0600 copy aside); after the source re-delivers, the day
    loads; a rerun changes nothing; the working file equals the target throughout."""
    _small_landing(lz)
    with pytest.raises(FileRejected) as err:
        _load(lz.root, pg, "r1", rejected)
    assert err.value.file == "billing/2025-01-02/invoice_lines.csv"
    assert err.value.problem.startswith("missing_required_column: ")
    assert (rejected / "billing" / "2025-01-02" / "invoice_lines.csv").stat().st_mode & 0o777 == 0o600
    assert_working_equals_target(pg)
    assert raw_rows(pg.build, "raw.load_batches", {"loaded_at", "files"}) == sorted(
        [(f"{s}:{d}:r1", s, lz.DAY1 if d.endswith("01") else lz.DAY2, "r1")
         for s, d in [("crm", "2025-01-01"), ("crm", "2025-01-02"), ("billing", "2025-01-01")]], key=repr)
    assert _count(pg.build, "SELECT count(*) FROM raw.billing__invoice_lines") == 4
    assert _count(pg.build, "SELECT count(*) FROM raw.crm__accounts") == 4
    quarantine = raw_rows(pg.build, "raw.quarantine", LOAD_TIME | {"batch_id", "source", "entity", "extract_day"})
    assert [(q[0], q[1], q[2], q[3].split(":")[0]) for q in quarantine] == sorted([
        ("billing/2025-01-01/invoice_lines.csv", 6, "quantity", "negative_quantity"),
        ("billing/2025-01-02/invoice_lines.csv", None, None, "missing_required_column"),
    ], key=repr)
    assert quarantine[0][4].startswith("LX,I1,P1,") and quarantine[1][4] is None  # the file row has no text
    assert pending_days(lz.root, pg.build, "billing") == [lz.DAY2]
    assert (loaded_through(pg.build, "crm"), loaded_through(pg.build, "billing")) == (lz.DAY2, lz.DAY1)

    (lz.root / "billing" / "2025-01-02" / "invoice_lines.csv").unlink()  # the source re-delivers the day
    report = _load(lz.root, pg, "r2", rejected)
    assert report.days_loaded == [("billing", lz.DAY2)]
    before = snapshot(pg.build)
    again = _load(lz.root, pg, "r3", rejected)
    assert again.days_loaded == [] and again.files == []
    assert snapshot(pg.build) == before
    day = load_day(lz.root, pg.build, source="billing", day=lz.DAY2, run_id="r4", rejected_dir=rejected,
                   working_db=pg.working_db)
    assert day.applied is False and snapshot(pg.build) == before
    assert _count(pg.build, "SELECT count(*) FROM raw.billing__invoices") == 3
    assert pending_days(lz.root, pg.build, "billing") == []
    assert_working_equals_target(pg)


def _generated(out: Path, *, defects: float, days: int = 5) -> Path:
    generator.generate(generator.GeneratorOptions(out=out, accounts=40, months=13, seed=3, days=days,
                                                  defects=defects))
    return out


def _pg_type(duckdb_type: str) -> str:
    """The PostgreSQL type (format_type) a raw column of this DuckDB type has (as in tests/dbt/engine_copy.py)."""
    simple = {"VARCHAR": "text", "BIGINT": "bigint", "INTEGER": "integer", "BOOLEAN": "boolean", "DATE": "date",
              "TIMESTAMP": "timestamp without time zone"}
    if duckdb_type in simple:
        return simple[duckdb_type]
    assert duckdb_type.startswith("DECIMAL("), duckdb_type
    return "numeric" + duckdb_type.removeprefix("DECIMAL").replace(" ", "")


def _pg_types(target: Warehouse, table: str) -> list[tuple[str, str]]:
    schema, name = table.split(".")
    with connect(target, read_only=True) as con:
        return [(r[0], r[1]) for r in con.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a JOIN pg_class c "
            "ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? "
            "AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum", [schema, name]).fetchall()]


def test_postgres_raw_equals_duckdb_raw(tmp_path: Path, pg: Pg, db: Path, rejected: Path) -> None:
    """The same generated landing (every defect class injected; a rejected file is re-delivered without
    it, as the source would) loaded into DuckDB and into PostgreSQL: every raw table has the same
    columns with the same types and the same rows (all but the wall-clock load times)."""
    landing = _generated(tmp_path / "landing", defects=0.05)
    defects = json.loads((landing / "_defects.json").read_text())["defects"]
    rejections = 0
    for attempt in range(len(defects) + 1):
        outcomes = []
        for load in (lambda r: load_landing(landing, db, run_id=r, rejected_dir=rejected),
                     lambda r: _load(landing, pg, r, tmp_path / "pg_rejected")):
            try:
                load(f"r{attempt}")
                outcomes.append(None)
            except FileRejected as exc:
                outcomes.append((exc.file, exc.problem))
        assert outcomes[0] == outcomes[1]
        if outcomes[0] is None:
            break
        rejections += 1
        (landing / outcomes[0][0]).unlink()
    assert rejections == sum(d["outcome"] == "reject_file" for d in defects) > 0

    for table in TABLES:
        with connect(db, read_only=True) as con:
            expected = [(c, _pg_type(t)) for c, t in con.columns(*table.split("."))]
        assert _pg_types(pg.build, table) == expected, table
        assert raw_rows(pg.build, table, LOAD_TIME) == raw_rows(db, table, LOAD_TIME), table
    assert _count(pg.build, "SELECT count(*) FROM raw.quarantine WHERE line_number IS NOT NULL") > 0
    assert _count(pg.build, "SELECT count(*) FROM raw.billing__invoice_lines") > 1000
    assert_working_equals_target(pg)


CRASHING_LOAD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path

    import ingest.working as working
    from ingest.load import load_day, load_landing
    from kam_warehouse.core.warehouse import locate

    point, nth, landing, url, state, rejected, working_db = sys.argv[1:]
    hits = 0

    def crash(name):
        global hits
        if name == point:
            hits += 1
            if hits == int(nth):
                os.kill(os.getpid(), signal.SIGKILL)

    working.checkpoint = crash
    load_landing(Path(landing), locate(url, Path(state)).build, run_id="r1", rejected_dir=Path(rejected),
                 working_db=Path(working_db))
    print("not killed")
""")


@pytest.mark.parametrize("point", [WORKING_COMMITTED, TARGET_COPIED])
def test_crash_between_the_two_commits_recovers_exactly(
    tmp_path: Path, pg_warehouse_url, db: Path, rejected: Path, point: str
) -> None:
    """SIGKILL while the third (source, day) is committed to the working file but not to PostgreSQL
    (before its target transaction, or inside it before COMMIT): PostgreSQL holds exactly the first two
    days, the working file three. The next load drops the third from the working file (the target is the
    truth), loads it and the rest once: the result equals a clean DuckDB load of the same landing, with
    one load_batches row per (source, day) and one manifest row per file."""
    landing = _generated(tmp_path / "landing", defects=0.0, days=3)
    url, state = pg_warehouse_url(), tmp_path / "pg_state"
    pg = Pg(locate(url, state).build, state / "ingest.duckdb")
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_LOAD, point, "3", str(landing), url, str(state), str(rejected),
         str(pg.working_db)], cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert crashed.returncode == -9, crashed.stdout + crashed.stderr
    assert _count(pg.build, "SELECT count(*) FROM raw.load_batches") == 2
    assert _count(pg.working_db, "SELECT count(*) FROM raw.load_batches") == 3
    assert len(fingerprint_of(pg.working_db)) == 3 and len(fingerprint_of(pg.build)) == 2

    report = _load(landing, pg, "r2", rejected)
    assert len(report.days_loaded) == 8 - 2  # (4 days x 2 sources) minus the two the target had
    assert [w.split(":")[0:2] for w in report.warnings] == [["crm", report.days_loaded[0][1].isoformat()]]
    load_landing(landing, db, run_id="r1", rejected_dir=tmp_path / "ref_rejected")
    assert snapshot(pg.build, LOAD_TIME | RUN) == snapshot(db, LOAD_TIME | RUN)
    assert _count(pg.build, "SELECT count(*) FROM (SELECT source, extract_day FROM raw.load_batches "
                            "GROUP BY 1, 2 HAVING count(*) > 1) d") == 0
    assert _count(pg.build, "SELECT count(*) FROM (SELECT file_path FROM raw.load_manifest "
                            "GROUP BY 1 HAVING count(*) > 1) d") == 0
    assert_working_equals_target(pg)


def fingerprint_of(target: WarehouseTarget) -> dict[str, tuple]:
    with connect(target, read_only=True) as con:
        return fingerprint(con)


def test_missing_working_file_is_rebuilt_from_the_target(lz: LandingBuilder, pg: Pg, rejected: Path) -> None:
    """A new container has no working file: it is rebuilt from PostgreSQL, so the days loaded are not
    loaded again, reference checks see the accounts loaded before, and a file changed after its load is
    still detected (the manifest came from the target)."""
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    lz.write_day("billing", lz.DAY1, lz.valid_billing())
    _load(lz.root, pg, "r1", rejected)
    before = snapshot(pg.build)
    pg.working_db.unlink()

    lz.write_day("billing", lz.DAY2, {"invoices.csv": lz.csv_text([{**lz.INVOICE, "invoice_id": "I8"},
                                                                    {**lz.INVOICE, "invoice_id": "I9",
                                                                     "account_id": "A404"}])})
    changed = lz.root / "billing" / "2025-01-01" / "payments.csv"
    changed.write_text(changed.read_text() + "PAY9,I1,A1,2025-01-05,CNY,5.00,2025-01-05T10:00:00\n")
    report = _load(lz.root, pg, "r2", rejected)
    assert report.days_loaded == [("billing", lz.DAY2)]
    assert [f.path for f in report.changed] == ["billing/2025-01-01/payments.csv"]
    assert _count(pg.build, "SELECT count(*) FROM raw.billing__invoices") == 3  # I1, I2, I8; I9 quarantined
    assert _count(pg.build, "SELECT count(*) FROM raw.quarantine WHERE reason LIKE 'unknown_account:%'") == 1
    for table, rows in before.items():
        assert set(rows) <= set(raw_rows(pg.build, table)), table  # nothing of day 1 replaced or duplicated
    assert _count(pg.build, "SELECT count(*) FROM raw.load_manifest WHERE status = 'changed_after_load'") == 1
    assert_working_equals_target(pg)


def test_an_unreadable_working_file_is_replaced(lz: LandingBuilder, pg: Pg, rejected: Path) -> None:
    """A working file that is not a DuckDB database any more (a broken disk, a stray copy) is replaced
    by a rebuild from the target: nothing is loaded twice."""
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    _load(lz.root, pg, "r1", rejected)
    assert pg.working_db.stat().st_mode & 0o777 == 0o600  # raw rows, contact data included
    pg.working_db.write_bytes(b"not a database" * 1000)
    pg.working_db.chmod(0o644)
    assert _load(lz.root, pg, "r2", rejected).days_loaded == []
    assert pg.working_db.stat().st_mode & 0o777 == 0o600
    assert _count(pg.build, "SELECT count(*) FROM raw.crm__accounts") == 3
    assert_working_equals_target(pg)


def test_the_target_is_the_truth_when_the_working_file_disagrees(
    lz: LandingBuilder, pg: Pg, rejected: Path
) -> None:
    """The target restored to an earlier state (billing day 2 gone from it) while the working file still
    holds that day: the next load drops it from the working file and loads it again, once."""
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    lz.write_day("billing", lz.DAY1, lz.valid_billing())
    lz.write_day("billing", lz.DAY2, {"invoices.csv": lz.csv_text([{**lz.INVOICE, "invoice_id": "I8"}])})
    _load(lz.root, pg, "r1", rejected)
    full = snapshot(pg.build, LOAD_TIME | RUN)
    with connect(pg.build) as con, con.transaction():
        for table, column in raw_tables():
            con.execute(f"DELETE FROM {table} WHERE {column} = ?", ["billing:2025-01-02:r1"])
    assert pending_days(lz.root, pg.build, "billing") == [lz.DAY2]

    report = _load(lz.root, pg, "r2", rejected)
    assert report.days_loaded == [("billing", lz.DAY2)]
    assert snapshot(pg.build, LOAD_TIME | RUN) == full
    assert_working_equals_target(pg)

    with connect(pg.build) as con:  # a row written by something else than ingest (no batch of it)
        con.execute("INSERT INTO raw.crm__accounts (account_id) VALUES ('A404')")
    assert _load(lz.root, pg, "r3", rejected).days_loaded == []
    assert_working_equals_target(pg)


def test_a_failing_target_stops_the_load_with_nothing_half_copied(
    lz: LandingBuilder, pg: Pg, rejected: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COPY fails in the second day's target transaction: the load stops with TargetSyncError (not a
    rejected file), PostgreSQL and the working file both hold exactly the first day, and the next load
    completes the landing."""
    import psycopg2

    from kam_warehouse.core.warehouse.postgres_engine import PostgresConnection

    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    lz.write_day("billing", lz.DAY1, lz.valid_billing())
    real, calls = PostgresConnection.bulk_load, []

    def failing(self, table, data, *, columns=None):
        calls.append(table)
        if any(t.startswith("raw.billing__") for t in calls):
            raise psycopg2.OperationalError("server closed the connection unexpectedly")
        return real(self, table, data, columns=columns)

    monkeypatch.setattr(PostgresConnection, "bulk_load", failing)
    with pytest.raises(TargetSyncError, match="billing:2025-01-01:r1"):
        _load(lz.root, pg, "r1", rejected)
    assert _count(pg.build, "SELECT count(*) FROM raw.load_batches") == 1
    assert _count(pg.build, "SELECT count(*) FROM raw.billing__invoices") == 0
    assert _count(pg.build, "SELECT count(*) FROM raw.load_manifest WHERE status = 'rejected'") == 0
    assert_working_equals_target(pg)

    monkeypatch.setattr(PostgresConnection, "bulk_load", real)
    report = _load(lz.root, pg, "r2", rejected)
    assert report.days_loaded == [("billing", lz.DAY1)]
    assert _count(pg.build, "SELECT count(*) FROM raw.billing__invoices") == 2
    assert_working_equals_target(pg)


def test_a_day_racing_in_from_a_second_working_file_is_refused(
    lz: LandingBuilder, pg: Pg, tmp_path: Path, rejected: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two containers (two working files) load the same day into one PostgreSQL: when the second re-synced
    before the first committed, its copy of the day is refused (one load_batches row per source and day),
    it stops with TargetSyncError, and its next load re-syncs and finds the day loaded."""
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    second = Pg(pg.build, tmp_path / "container2" / "ingest.duckdb")
    _load(lz.root, pg, "r1", rejected)
    monkeypatch.setattr(working.Working, "resync", lambda self, rebuilt=False: working.Resync())
    with pytest.raises(TargetSyncError, match="crm:2025-01-01:r2"):
        _load(lz.root, second, "r2", rejected)
    monkeypatch.undo()
    assert _load(lz.root, second, "r3", rejected).days_loaded == []
    assert raw_rows(pg.build, "raw.load_batches", {"loaded_at"}) == [("crm:2025-01-01:r1", "crm", lz.DAY1, "r1", 1)]
    assert _count(pg.build, "SELECT count(*) FROM raw.crm__accounts") == 3
    assert_working_equals_target(second)


def test_in_process_crash_before_the_target_commit(
    lz: LandingBuilder, pg: Pg, rejected: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same crash point reached in this process (an exception no handler catches, e.g. a
    KeyboardInterrupt): the target's transaction rolls back, the next load recovers."""

    class Crash(BaseException):
        pass

    def crash(name: str) -> None:
        if name == TARGET_COPIED:
            raise Crash(name)

    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    monkeypatch.setattr(working, "checkpoint", crash)
    with pytest.raises(Crash):
        _load(lz.root, pg, "r1", rejected)
    assert _count(pg.build, "SELECT count(*) FROM raw.crm__accounts") == 0
    assert _count(pg.working_db, "SELECT count(*) FROM raw.crm__accounts") == 3
    monkeypatch.undo()
    assert _load(lz.root, pg, "r2", rejected).days_loaded == [("crm", lz.DAY1)]
    assert _count(pg.build, "SELECT count(*) FROM raw.crm__accounts") == 3
    assert_working_equals_target(pg)


def test_a_nul_character_is_quarantined_where_text_cannot_hold_it(
    lz: LandingBuilder, pg: Pg, rejected: Path
) -> None:
    """PostgreSQL's text cannot hold NUL (DuckDB keeps it as data, test_irregular_files): on PostgreSQL a
    text value with a NUL quarantines its row (`nul_character`, the record's text with U+FFFD for the
    NUL), a NUL in a malformed record or an extra header name is written as U+FFFD, the rest loads."""
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    lines = str(lz.valid_billing(lines=2)["invoice_lines.csv"]).replace("updated_at\n", "updated_at,no\x00te\n", 1)
    lines = lines.replace("\n", ",x\n").replace("updated_at,no\x00te,x\n", "updated_at,no\x00te\n")
    lines += lz.line(invoice_line_id="L3", description="nul\x00byte").replace("\n", ",x\n")
    lines += "L4,I1,P1,\"nul\x00\"tail,2,50.00,100.00,2025-01-01,2025-12-31,2025-01-01T10:00:00,x\n"
    files = {**lz.valid_billing(lines=2), "invoice_lines.csv": lines}
    lz.write_day("billing", lz.DAY1, files)
    _load(lz.root, pg, "r1", rejected)
    assert raw_rows(pg.build, "raw.billing__invoice_lines", {"_loaded_at"})[0][0] == "L1"
    assert _count(pg.build, "SELECT count(*) FROM raw.billing__invoice_lines") == 2
    quarantine = raw_rows(pg.build, "raw.quarantine", LOAD_TIME | {"batch_id", "source", "entity", "extract_day"})
    assert [(q[1], q[2], q[3].split(":")[0]) for q in quarantine] == [
        (4, "description", "nul_character"), (5, None, "truncated_last_line")]
    assert quarantine[0][4].startswith("L3,I1,P1,nul\ufffdbyte,") and "\ufffd" in quarantine[1][4]
    with connect(pg.build, read_only=True) as con:
        assert con.scalar("SELECT extra_columns FROM raw.load_manifest WHERE entity = 'invoice_lines'") == "no\ufffdte"
    assert _count(pg.build, "SELECT count(*) FROM raw.load_manifest WHERE rows_read <> rows_loaded + "
                            "rows_quarantined") == 0
    assert_working_equals_target(pg)


def test_an_embedded_target_is_its_own_working_database(lz: LandingBuilder, tmp_path: Path, rejected: Path) -> None:
    """A DuckDB Warehouse target (KAM_WAREHOUSE_URL unset) is loaded in place: no working file is made."""
    build = locate("", tmp_path / "wh").build
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    report = load_landing(lz.root, build, run_id="r1", rejected_dir=rejected,
                          working_db=tmp_path / "wh" / "ingest.duckdb")
    assert report.days_loaded == [("crm", lz.DAY1)]
    assert not (tmp_path / "wh" / "ingest.duckdb").exists()
    assert _count(build, "SELECT count(*) FROM raw.crm__accounts") == 3
    assert pending_days(lz.root, build, "crm") == []
    assert (loaded_through(build, "crm"), loaded_through(build, "billing")) == (lz.DAY1, None)
    assert loaded_through(tmp_path / "nowhere.duckdb", "crm") is None
