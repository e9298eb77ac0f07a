"""The landing zone is read strictly: nothing in it is ignored without a word, nothing outside it is read,
every problem of a day is reported in one run, and a crash in one source never stops the other."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import ingest.load as load_module
from ingest.errors import FileRejected
from ingest.landing import survey
from ingest.load import load_landing
from ingest.load_file import ReadFile

if TYPE_CHECKING:
    from conftest import LandingBuilder

Query = Callable[[str], list[tuple]]
BILLING_ROWS = "SELECT (SELECT count(*) FROM raw.billing__invoices) + (SELECT count(*) FROM raw.billing__invoice_lines)"


def _rejected_rows(query: Query) -> list[tuple]:
    return query("SELECT file_path, entity, split_part(message, ':', 1) FROM raw.load_manifest "
                 "WHERE status = 'rejected' ORDER BY file_path")


@pytest.mark.parametrize("name", ["invoices .csv", "Payments.CSV", "notes.txt"])
def test_unknown_file_rejects_its_day_with_the_expected_names(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query, name: str
) -> None:
    """A file that is not a contract name (whitespace or case variants included) rejects its day: the
    error names it and the names expected, nothing of the day loads, the file is copied aside (0600)."""
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    lz.write_day("billing", lz.DAY1, {**lz.valid_billing(), name: b"payment_id\n"})
    with pytest.raises(FileRejected) as err:
        load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    assert err.value.file == f"billing/2025-01-01/{name}"
    assert err.value.problem.startswith(f"unknown_file: 'billing/2025-01-01/{name}' is not a file of the extract")
    assert "expected names: _SUCCESS, invoices.csv, invoice_lines.csv" in err.value.problem
    assert query(BILLING_ROWS) == [(0,)]
    assert query("SELECT count(*) FROM raw.crm__accounts") == [(3,)]
    copy = rejected / "billing" / "2025-01-01" / name
    assert copy.read_bytes() == b"payment_id\n" and copy.stat().st_mode & 0o777 == 0o600
    assert all((p.stat().st_mode & 0o777) == 0o700 for p in (rejected, copy.parent.parent, copy.parent))


def test_every_problem_of_a_day_is_reported_in_one_run(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """Three bad files in one day folder: one run names all three (exception, manifest, rejected/)."""
    files = lz.valid_billing()
    files["invoices.csv"] = b""
    files["invoice_lines.csv"] = str(files["invoice_lines.csv"]).replace("amount,", "", 1).encode()
    files["Payments.CSV"] = files.pop("payments.csv")
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    lz.write_day("billing", lz.DAY1, files)
    with pytest.raises(FileRejected) as err:
        load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    expected = [
        ("billing/2025-01-01/Payments.CSV", "payments", "unknown_file"),
        ("billing/2025-01-01/invoice_lines.csv", "invoice_lines", "missing_required_column"),
        ("billing/2025-01-01/invoices.csv", "invoices", "empty_file"),
    ]
    assert sorted((f, p.split(":")[0]) for f, p in err.value.problems) == [(f, c) for f, _, c in expected]
    assert all(f in str(err.value) for f, _, _ in expected)
    assert _rejected_rows(query) == expected
    assert sorted(p.name for p in (rejected / "billing" / "2025-01-01").iterdir()) == [
        "Payments.CSV", "invoice_lines.csv", "invoices.csv"]


def test_folders_not_read_are_listed(lz: LandingBuilder, db: Path, rejected: Path) -> None:
    """Folder names that are not a valid date and day folders without _SUCCESS are reported, not read."""
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    (lz.root / "billing" / "2024-2-4").mkdir(parents=True)
    (lz.root / "billing" / "2024-02-30").mkdir()
    lz.write_day("billing", lz.DAY2, lz.valid_billing(), complete=False)
    expected = [
        "billing/2024-02-30: folder name is not a date YYYY-MM-DD, not read",
        "billing/2024-2-4: folder name is not a date YYYY-MM-DD, not read",
        "billing/2025-01-02: no _SUCCESS yet, not read",
    ]
    assert survey(lz.root).notices == expected
    report = load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    assert report.notices == expected and report.days_loaded == [("crm", lz.DAY1)]


def _secret(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("invoice_id,account_id\nTOPSECRET-42,hunter2\n")
    return secret


def test_symlinked_file_outside_the_root_is_refused_and_not_copied(
    tmp_path: Path, lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """An entity file linking outside the landing root rejects its day; it is neither read nor copied, and
    no message carries its content or target."""
    secret = _secret(tmp_path)
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    folder = lz.write_day("billing", lz.DAY1, lz.valid_billing())
    (folder / "invoices.csv").unlink()
    (folder / "invoices.csv").symlink_to(secret)
    with pytest.raises(FileRejected) as err:
        load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    assert err.value.problem.startswith("outside_landing_root: billing/2025-01-01/invoices.csv resolves outside")
    assert not (rejected / "billing" / "2025-01-01" / "invoices.csv").exists()
    assert query(BILLING_ROWS) == [(0,)]
    text = str(query("SELECT * FROM raw.load_manifest")) + str(query("SELECT * FROM raw.quarantine")) + str(err.value)
    assert "TOPSECRET" not in text and "hunter2" not in text and str(secret.parent) not in text


def test_symlinked_day_and_source_folders_outside_the_root_are_refused(
    tmp_path: Path, lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """A day folder or a source folder resolving outside the root is refused with a clear rejection; a
    symlink that stays inside the root is followed."""
    outside = tmp_path / "elsewhere"
    type(lz)(outside).write_day("billing", lz.DAY1, lz.valid_billing())
    type(lz)(outside).write_day("crm", lz.DAY1, lz.valid_crm())
    (lz.root / "billing").mkdir(parents=True)
    (lz.root / "billing" / "2025-01-01").symlink_to(outside / "billing" / "2025-01-01")
    (lz.root / "crm").symlink_to(outside / "crm")
    with pytest.raises(FileRejected) as err:
        load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    problems = dict(err.value.problems)
    assert problems["crm"].startswith("outside_landing_root: crm/ resolves outside the landing root")
    assert problems["billing/2025-01-01"].startswith("outside_landing_root: billing/2025-01-01 resolves outside")
    assert query("SELECT count(*) FROM raw.crm__accounts") == [(0,)] and query(BILLING_ROWS) == [(0,)]
    assert not rejected.exists() or not any(rejected.rglob("*.csv"))

    inside = lz.root / "shared" / "accounts.csv"
    inside.parent.mkdir()
    inside.write_text(str(lz.valid_crm()["accounts.csv"]))
    (lz.root / "crm").unlink()
    (lz.root / "crm" / "2025-01-01").mkdir(parents=True)
    (lz.root / "crm" / "2025-01-01" / "accounts.csv").symlink_to(inside)
    (lz.root / "crm" / "2025-01-01" / "_SUCCESS").write_bytes(b"")
    with pytest.raises(FileRejected):  # billing's day is still refused
        load_landing(lz.root, db, run_id="r2", rejected_dir=rejected)
    assert query("SELECT count(*) FROM raw.crm__accounts") == [(3,)]


def test_a_crash_in_one_source_rejects_its_day_and_the_other_source_loads(
    lz: LandingBuilder, db: Path, rejected: Path, query: Query, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error while applying a billing file rolls the day back, records a `load_error`
    manifest row, copies the file aside, and crm still loads."""
    real_apply = load_module.apply_file

    def failing(con: object, batch: object, read: ReadFile) -> object:
        if read.entity.name == "invoice_lines":
            raise RuntimeError("disk on fire")
        return real_apply(con, batch, read)

    monkeypatch.setattr(load_module, "apply_file", failing)
    lz.write_day("billing", lz.DAY1, lz.valid_billing())
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    with pytest.raises(FileRejected) as err:
        load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    assert err.value.problem == ("load_error: billing/2025-01-01/invoice_lines.csv could not be loaded "
                                 "(RuntimeError; the log has the details)")
    assert query(BILLING_ROWS) == [(0,)] and query("SELECT count(*) FROM raw.load_batches") == [(1,)]
    assert query("SELECT count(*) FROM raw.crm__accounts") == [(3,)]
    assert _rejected_rows(query) == [("billing/2025-01-01/invoice_lines.csv", "invoice_lines", "load_error")]
    assert (rejected / "billing" / "2025-01-01" / "invoice_lines.csv").is_file()


def test_loaded_file_relinked_outside_the_root_is_reported_not_read(
    tmp_path: Path, lz: LandingBuilder, db: Path, rejected: Path, query: Query
) -> None:
    """A loaded file later replaced by a symlink out of the landing root is reported on the next run and
    never hashed or read (no changed_after_load row with the outside file's fingerprint)."""
    folder = lz.write_day("crm", lz.DAY1, lz.valid_crm())
    load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)
    (folder / "accounts.csv").unlink()
    (folder / "accounts.csv").symlink_to(_secret(tmp_path))
    report = load_landing(lz.root, db, run_id="r2", rejected_dir=rejected)
    assert [(f.path, f.message) for f in report.changed] == [(
        "crm/2025-01-01/accounts.csv",
        "outside_landing_root: crm/2025-01-01/accounts.csv now resolves outside the landing root; not read")]
    assert query("SELECT status FROM raw.load_manifest") == [("loaded",)]
