"""A narrow night's raw-to-staging reconciliation (issue 17): with the tested watermark the gate counts,
for the staging tables replaced by key, only the keys loaded after it (counting every distinct invoice
line key was most of the gate's query time at 10M lines), still catching a lost key of the night, while a
full-scope gate and any check set to `warn` read every key."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import yaml

from expectations.checks import KEYED_STAGING_TABLES, RAW_KEYS_IN_STAGING
from expectations.gate import run_gate
from expectations.results import GateResult

sys.path.insert(0, str(Path(__file__).parent))

from gate_defects import NARROW_LOADS, NARROW_NEW_KEY_LOST, NARROW_OLD_KEY_LOST

REPO = Path(__file__).resolve().parents[2]
SINCE = datetime(2025, 3, 10)
CHECK = RAW_KEYS_IN_STAGING.name


def _gate(db: Path, config_dir: Path, tmp_path: Path, dbt_target: Path, since: datetime | None,
          run_id: str) -> GateResult:
    return run_gate(db, run_id=run_id, config_dir=config_dir, data_docs_dir=tmp_path / "docs",
                    dbt_target_dir=dbt_target, checks=(RAW_KEYS_IN_STAGING,), narrow_since=since)


def _failed(result: GateResult) -> list[str]:
    return [line for line in result.failed_blocking + result.failed_warning if line.startswith(CHECK)]


def test_keyed_staging_tables_are_the_dbt_projects(tmp_path: Path) -> None:
    """The narrow form is only sound for a staging model replaced by key (a row changes only with a new raw
    version of its key): the set the check narrows is exactly the staging models configured so."""
    keyed = set()
    for sql in (REPO / "dbt_project" / "models" / "staging").rglob("stg_*__*.sql"):
        if re.search(r"\{\{\s*replace_by_key_config\(", sql.read_text()):
            source, entity = sql.stem.removeprefix("stg_").split("__")
            keyed.add((source, entity))
    assert keyed == set(KEYED_STAGING_TABLES)


def test_narrow_gate_catches_a_lost_key_of_the_night(mutate: Callable[[str], Path], config_dir: Path,
                                                     tmp_path: Path, dbt_target: Path) -> None:
    """A key loaded after the watermark and missing from staging blocks the narrow gate, the line saying
    which keys were counted; the same data without the loss passes."""
    db = mutate(NARROW_LOADS)
    assert _gate(db, config_dir, tmp_path, dbt_target, SINCE, "ok").passed
    sql, expected = NARROW_NEW_KEY_LOST
    db = mutate(sql)
    blocked = _gate(db, config_dir, tmp_path, dbt_target, SINCE, "lost")
    assert not blocked.passed
    assert any(expected in line for line in _failed(blocked)), blocked.failed_blocking


def test_old_keys_are_read_by_full_scope_and_by_a_warning_check(mutate: Callable[[str], Path], config_dir: Path,
                                                                tmp_path: Path, dbt_target: Path) -> None:
    """A key older than the watermark is one the gate that passed there reconciled: the narrow gate does
    not read it again (what it saves), a full-scope gate does, and so does a narrow gate where the check is
    only `warn` (a warning does not hold the watermark back, so it must keep reading every row)."""
    mutate(NARROW_LOADS)
    db = mutate(NARROW_OLD_KEY_LOST)
    assert _gate(db, config_dir, tmp_path, dbt_target, SINCE, "narrow").passed
    full = _gate(db, config_dir, tmp_path, dbt_target, None, "full")
    assert any("raw.billing__invoices holds 3 distinct keys (invoice_id) but staging.stg_billing__invoices has 2 rows"
               in line for line in full.failed_blocking), full.failed_blocking
    cfg = yaml.safe_load((config_dir / "quality.yml").read_text())
    cfg["checks"][RAW_KEYS_IN_STAGING.key]["severity"] = "warn"
    (config_dir / "quality.yml").write_text(yaml.safe_dump(cfg))
    warned = _gate(db, config_dir, tmp_path, dbt_target, SINCE, "warn")
    assert warned.outcome == "warned" and any("holds 3 distinct keys (invoice_id) but" in line
                                              for line in warned.failed_warning), warned.failed_warning


def test_views_and_other_entities_are_read_in_full_on_a_narrow_night() -> None:
    """Only the keyed staging tables narrow: a staging view is recomputed from every raw row when read,
    and every entity is still in the query (nothing skipped)."""
    sql = RAW_KEYS_IN_STAGING.sql({}, since=SINCE)
    assert sql.count("_loaded_at > CAST('2025-03-10 00:00:00' AS TIMESTAMP)") == 2 * len(KEYED_STAGING_TABLES)
    for table in RAW_KEYS_IN_STAGING.reads:
        assert table in sql
    assert "$" not in RAW_KEYS_IN_STAGING.sql({}) and "_loaded_at >" not in RAW_KEYS_IN_STAGING.sql({})
