"""The nightly tier step: read tonight's scores, decide per group, write history, all in one transaction.

The night is `as_of`: a night already reclassified (tiers.tier_runs) is not applied again, so a
re-run makes no changes and no duplicate rows. History rows are [valid_from, valid_to).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from kam_warehouse.errors import StepFailed
from kam_warehouse.tiers.decide import Candidate, Current, Decision, Override, Scored, decide
from kam_warehouse.tiers.settings import TierSettings, load_tier_settings
from kam_warehouse.tiers.state import ensure_tier_state

log = logging.getLogger(__name__)

SCORES = "intermediate.int_account_tier_scores"


@dataclass
class TierRunResult:
    as_of: date
    changes: int = 0
    scored: int = 0
    held_by_hysteresis: int = 0
    overrides_applied: int = 0
    already_done_by: str | None = None
    details: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.already_done_by:
            return f"tiers as of {self.as_of} were already reclassified by run {self.already_done_by}: no changes"
        return (f"tiers as of {self.as_of}: {self.scored} groups scored, {self.changes} tier change(s), "
                f"{self.held_by_hysteresis} held by hysteresis, {self.overrides_applied} override(s) applied")


def reclassify(db_path: Path, *, run_id: str, as_of: date, config_dir: Path) -> TierRunResult:
    """Reclassify every scored group as of `as_of` (see docs/quality-and-tiers.md)."""
    cfg = load_tier_settings(config_dir)
    with duckdb.connect(str(db_path)) as con:
        ensure_tier_state(con)
        con.execute("BEGIN")
        try:
            result = _reclassify(con, run_id, as_of, cfg)
        except Exception:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    log.info(result.summary())
    return result


def _reclassify(con: duckdb.DuckDBPyConnection, run_id: str, as_of: date, cfg: TierSettings) -> TierRunResult:
    result = TierRunResult(as_of=as_of)
    done = con.execute("SELECT run_id, as_of FROM tiers.tier_runs WHERE as_of >= ? ORDER BY as_of DESC LIMIT 1",
                       [as_of]).fetchone()
    if done is not None:
        result.already_done_by = f"{done[0]} (as of {done[1]})"
        return result
    scores = _scores(con)
    current = _current(con)
    overrides = _overrides(con, as_of)
    candidates = _candidates(con)
    con.execute("DELETE FROM tiers.tier_candidates")
    for s in scores:
        d = decide(s, current.get(s.account_id), overrides.get(s.account_id), candidates.get(s.account_id), as_of, cfg)
        result.scored += 1
        result.held_by_hysteresis += d.held_by_hysteresis
        if d.candidate is not None:
            _keep_candidate(con, s.account_id, d.candidate)
        if d.new_tier is not None:
            prior = current.get(s.account_id)
            _apply(con, run_id, as_of, s, d, prior.tier if prior else None)
            result.changes += 1
            result.overrides_applied += d.is_override
            result.details.append(f"{s.account_id}: {d.reason}")
    con.execute("INSERT INTO tiers.tier_runs VALUES (?, ?, now()::TIMESTAMP, ?, ?)",
                [as_of, run_id, result.scored, result.changes])
    return result


def _scores(con: duckdb.DuckDBPyConnection) -> list[Scored]:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'intermediate' "
        "AND table_name = 'int_account_tier_scores'").fetchone()
    if not exists or not exists[0]:
        raise StepFailed("tiers", f"{SCORES} does not exist; run dbt build before the tier step")
    rows = con.execute(
        f"SELECT account_id, score, threshold_strategic, threshold_key, threshold_standard FROM {SCORES} "
        "WHERE score IS NOT NULL ORDER BY account_id").fetchall()
    return [Scored(r[0], float(r[1]), {"strategic": float(r[2]), "key": float(r[3]), "standard": float(r[4])})
            for r in rows]


def _current(con: duckdb.DuckDBPyConnection) -> dict[str, Current]:
    rows = con.execute(
        "SELECT account_id, tier, coalesce(is_override, FALSE) FROM tiers.account_tier_history WHERE valid_to IS NULL"
    ).fetchall()
    return {r[0]: Current(r[1], bool(r[2])) for r in rows}


def _overrides(con: duckdb.DuckDBPyConnection, as_of: date) -> dict[str, Override]:
    """Overrides in force on `as_of` (through expires_on inclusive); the latest-expiring one wins."""
    rows = con.execute(
        "SELECT account_id, tier, coalesce(reason, ''), coalesce(set_by, 'unknown'), expires_on "
        "FROM tiers.tier_overrides WHERE expires_on IS NULL OR expires_on >= ? "
        "ORDER BY account_id, expires_on NULLS LAST", [as_of]).fetchall()
    return {r[0]: Override(r[1], r[2], r[3], r[4]) for r in rows}


def _candidates(con: duckdb.DuckDBPyConnection) -> dict[str, Candidate]:
    rows = con.execute(
        "SELECT account_id, candidate_tier, first_seen, last_seen, nights FROM tiers.tier_candidates").fetchall()
    return {r[0]: Candidate(r[1], r[2], r[3], r[4]) for r in rows}


def _keep_candidate(con: duckdb.DuckDBPyConnection, account_id: str, c: Candidate) -> None:
    con.execute("INSERT INTO tiers.tier_candidates VALUES (?, ?, ?, ?, ?)",
                [account_id, c.tier, c.first_seen, c.last_seen, c.nights])


def _apply(con: duckdb.DuckDBPyConnection, run_id: str, as_of: date, s: Scored, d: Decision,
           from_tier: str | None) -> None:
    con.execute("UPDATE tiers.account_tier_history SET valid_to = ? WHERE account_id = ? AND valid_to IS NULL",
                [as_of, s.account_id])
    con.execute("INSERT INTO tiers.account_tier_history VALUES (?, ?, ?, NULL, ?, ?, ?, ?)",
                [s.account_id, d.new_tier, as_of, s.score, d.reason, run_id, d.is_override])
    con.execute("INSERT INTO ops.tier_changes VALUES (?, ?, ?, ?, ?, ?, ?)",
                [run_id, as_of, s.account_id, from_tier, d.new_tier, s.score, d.reason])
