"""Issue 18: nothing a landing file holds leaks into what is published through a message, and nothing
outside the landing root is read. Driven through `kam run` (real dbt, gate, tiers, publish)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.e2e

KAM = [sys.executable, "-m", "kam_warehouse"]
CONTACT = ["CT99999999", "{account}", "Zhang Leakname", "leak.person@secret.example", "+86 139 0000 4321",
           "CFO", "true", "2026-01-02T10:00:00"]
SECRET = "TOPSECRET-7f3a9"
NEEDLES = ("Leakname", "leak.person@secret.example", "139 0000 4321", SECRET)


def _kam(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAM_ENV": "test"}
    return subprocess.run([*KAM, *args], capture_output=True, text=True, env=env, timeout=1200)


def _contacts(account: str, header: bool) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if header:
        w.writerow(["contact_id", "account_id", "full_name", "email", "phone", "role", "is_primary", "updated_at"])
    w.writerow([v.format(account=account) for v in CONTACT])
    return out.getvalue()


def _published_hits(warehouse: Path) -> list[str]:
    """Every place a needle occurs in what is published: each table of each served DuckDB file (all
    columns as text), each Parquet export, and the bytes of every other file except the build warehouse
    and rejected/ (the private, 0600/0700 places where raw content is allowed)."""
    hits = []
    for path in sorted(p for p in warehouse.rglob("*") if p.is_file()):
        rel = path.relative_to(warehouse)
        if rel.parts[0] == "rejected" or path.name == "build.duckdb" or path.name.endswith(".wal"):
            continue
        if path.suffix == ".duckdb":
            hits += [f"{rel}:{t}" for t in _duckdb_hits(path)]
        elif path.suffix == ".parquet":
            hits += [f"{rel}" for _ in _parquet_hits(path)]
        else:
            data = path.read_bytes()
            hits += [f"{rel}: {n}" for n in NEEDLES if n.encode() in data]
    return hits


def _text_match(source: str, con: duckdb.DuckDBPyConnection) -> bool:
    pattern = " OR ".join(f"contains(CAST(COLUMNS(*) AS VARCHAR), '{n}')" for n in NEEDLES)
    row = con.execute(f"SELECT count(*) FROM (SELECT * FROM {source}) WHERE {pattern}").fetchone()
    return bool(row and row[0])


def _duckdb_hits(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()
        return [t for (t,) in tables if _text_match(t, con)]


def _parquet_hits(path: Path) -> list[str]:
    with duckdb.connect() as con:
        return [str(path)] if _text_match(f"read_parquet('{path}')", con) else []


def test_headerless_contacts_and_a_secret_symlink_leak_nothing(tmp_path: Path) -> None:
    """Night 1: a contacts.csv without its header and an entity file symlinked to a secret outside the
    landing root are both rejected (the secret neither read nor copied). Night 2, after re-delivery,
    publishes: no contact name, e-mail, phone or secret appears in any published table or file, while
    the rejections are visible in ops.load_manifest by file and rule."""
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    gen = _kam("demo-data", "--out", str(landing), "--accounts", "30", "--months", "13", "--seed", "5", "--days", "2")
    assert gen.returncode == 0, gen.stderr
    crm_days = sorted(p for p in (landing / "crm").iterdir() if p.is_dir())
    billing_days = sorted(p for p in (landing / "billing").iterdir() if p.is_dir())
    account = list(csv.reader(io.StringIO((crm_days[0] / "accounts.csv").read_text(encoding="utf-8"))))[1][0]
    contacts = crm_days[-1] / "contacts.csv"
    contacts.write_text(_contacts(account, header=False), encoding="utf-8")
    secret = tmp_path / "secrets" / "fx_rates.csv"
    secret.parent.mkdir()
    secret.write_text(f"{SECRET},USD,7.1\n", encoding="utf-8")
    fx = billing_days[-1] / "fx_rates.csv"
    original_fx = fx.read_bytes()
    fx.unlink()
    fx.symlink_to(secret)

    night1 = _kam("run", "--landing", str(landing), "--warehouse", str(warehouse))
    assert night1.returncode != 0
    assert "Traceback" not in night1.stdout + night1.stderr
    for needle in NEEDLES:
        assert needle not in night1.stdout + night1.stderr
    assert not list((warehouse / "rejected").rglob("fx_rates.csv"))
    assert (warehouse / "rejected" / "crm" / crm_days[-1].name / "contacts.csv").stat().st_mode & 0o777 == 0o600

    contacts.write_text(_contacts(account, header=True), encoding="utf-8")
    fx.unlink()
    fx.write_bytes(original_fx)
    night2 = _kam("run", "--landing", str(landing), "--warehouse", str(warehouse))
    assert night2.returncode == 0, night2.stdout + night2.stderr

    with duckdb.connect(str(warehouse / "serving.duckdb"), read_only=True) as con:
        rejected = con.execute("SELECT file_path, split_part(message, ':', 1) FROM ops.load_manifest "
                               "WHERE status = 'rejected' ORDER BY 1").fetchall()
    assert rejected == [
        (f"billing/{billing_days[-1].name}/fx_rates.csv", "outside_landing_root"),
        (f"crm/{crm_days[-1].name}/contacts.csv", "missing_required_column"),
    ]
    assert _published_hits(warehouse) == []
