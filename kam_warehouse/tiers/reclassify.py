"""The nightly tier step: decide every scored group at once, write history, all in one transaction.

Set-based: one statement decides all groups (kam_warehouse.tiers.decide), then one UPDATE closes the
changed groups' current rows and one INSERT each writes the new rows, the change log and the pending
candidates, so the step costs a few statements whatever the size of the book.

The night is `as_of`: a night already reclassified (tiers.tier_runs) is not applied again, so a re-run
makes no changes and no duplicate rows. History rows are [valid_from, valid_to).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kam_warehouse.core.warehouse import Connection, WarehouseTarget, connect
from kam_warehouse.errors import StepFailed
from kam_warehouse.tiers.decide import bind, decisions_sql
from kam_warehouse.tiers.readers import SCORES, require_scores
from kam_warehouse.tiers.settings import TIER_ORDER, TierSettings, load_tier_settings
from kam_warehouse.tiers.state import ensure_tier_state

log = logging.getLogger(__name__)

NIGHT = "tier_night"


@dataclass
class TierRunResult:
    as_of: date
    changes: int = 0
    scored: int = 0
    held_by_hysteresis: int = 0
    overrides_applied: int = 0
    already_done_by: str | None = None

    def summary(self) -> str:
        if self.already_done_by:
            return f"tiers as of {self.as_of} were already reclassified by run {self.already_done_by}: no changes"
        return (f"tiers as of {self.as_of}: {self.scored} groups scored, {self.changes} tier change(s), "
                f"{self.held_by_hysteresis} held by hysteresis, {self.overrides_applied} override(s) applied")


def reclassify(target: WarehouseTarget, *, run_id: str, as_of: date, config_dir: Path) -> TierRunResult:
    """Reclassify every scored group of the build warehouse `target` as of `as_of` (see
    docs/quality-and-tiers.md)."""
    cfg = load_tier_settings(config_dir)
    with connect(target) as con:
        ensure_tier_state(con)
        with con.transaction():
            result = _reclassify(con, run_id, as_of, cfg)
    log.info(result.summary())
    return result


def _reclassify(con: Connection, run_id: str, as_of: date, cfg: TierSettings) -> TierRunResult:
    result = TierRunResult(as_of=as_of)
    done = con.execute("SELECT run_id, as_of FROM tiers.tier_runs WHERE as_of >= ? ORDER BY as_of DESC LIMIT 1",
                       [as_of]).fetchone()
    if done is not None:
        result.already_done_by = f"{done[0]} (as of {done[1]})"
        return result
    require_scores(con, "tiers")
    _check_proposed_tiers(con)
    con.execute(f"DROP TABLE IF EXISTS {NIGHT}")
    con.execute(*bind(f"CREATE TEMP TABLE {NIGHT} AS {decisions_sql(SCORES, con.number_text)}", {
        "as_of": as_of, "margin": cfg.margin, "margin_text": f"{cfg.margin:g}",
        "consecutive_nights": cfg.consecutive_nights}))
    _write(con, run_id, as_of)
    row = con.execute(
        f"SELECT count(*), count(new_tier), count(*) FILTER (WHERE held_by_hysteresis), "
        f"count(*) FILTER (WHERE new_tier IS NOT NULL AND is_override) FROM {NIGHT}").fetchone()
    assert row is not None
    result.scored, result.changes, result.held_by_hysteresis, result.overrides_applied = (int(v) for v in row)
    con.execute("INSERT INTO tiers.tier_runs (as_of, run_id, ran_at, scored, changes) "
                "VALUES (?, ?, CAST(now() AS TIMESTAMP), ?, ?)",
                [as_of, run_id, result.scored, result.changes])
    con.execute(f"DROP TABLE {NIGHT}")
    return result


def _check_proposed_tiers(con: Connection) -> None:
    """Every scored group must propose a known tier (the decision would otherwise skip it silently)."""
    known = ", ".join(f"'{t}'" for t in TIER_ORDER)
    bad = con.execute(f"SELECT account_id, proposed_tier FROM {SCORES} WHERE score IS NOT NULL "
                      f"AND (proposed_tier IS NULL OR proposed_tier NOT IN ({known})) ORDER BY account_id LIMIT 5"
                      ).fetchall()
    if bad:
        shown = ", ".join(f"{a}: {p!r}" for a, p in bad)
        raise StepFailed("tiers", f"{SCORES} proposes tiers that are not {', '.join(TIER_ORDER)} ({shown}); "
                                  "fix the mart before reclassifying")


def _write(con: Connection, run_id: str, as_of: date) -> None:
    """Apply the night's decisions with one statement per table."""
    params = {"as_of": as_of, "run_id": run_id}
    con.execute("DELETE FROM tiers.tier_candidates")
    con.execute("INSERT INTO tiers.tier_candidates (account_id, candidate_tier, first_seen, last_seen, nights) "
                f"SELECT account_id, proposed_tier, first_seen, last_seen, nights FROM {NIGHT} WHERE held_by_hysteresis")
    con.execute(*bind(f"UPDATE tiers.account_tier_history AS h SET valid_to = $as_of FROM {NIGHT} AS n "
                      "WHERE n.new_tier IS NOT NULL AND h.account_id = n.account_id AND h.valid_to IS NULL", params))
    con.execute(*bind("INSERT INTO tiers.account_tier_history (account_id, tier, valid_from, valid_to, score, reason, "
                      "run_id, is_override) SELECT account_id, new_tier, CAST($as_of AS DATE), CAST(NULL AS DATE), "
                      f"score, reason, CAST($run_id AS VARCHAR), is_override FROM {NIGHT} WHERE new_tier IS NOT NULL "
                      "ORDER BY account_id", params))
    con.execute(*bind("INSERT INTO ops.tier_changes (run_id, as_of, account_id, from_tier, to_tier, score, reason) "
                      "SELECT CAST($run_id AS VARCHAR), CAST($as_of AS DATE), account_id, current_tier, new_tier, score, "
                      f"reason FROM {NIGHT} WHERE new_tier IS NOT NULL ORDER BY account_id", params))
