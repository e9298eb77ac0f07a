"""Nightly tier reclassification: first classification, hysteresis, overrides, idempotence, history chain;
on the embedded DuckDB build warehouse and on a PostgreSQL build database (every test runs on both, and
on both the set-based step equals the same per-group Python reference)."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from kam_warehouse.core.warehouse import Warehouse, connect, locate
from kam_warehouse.tiers import reclassify
from kam_warehouse.tiers.state import ensure_tier_state

NIGHT0 = date(2025, 3, 1)
THRESHOLDS = (70.0, 50.0, 30.0)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    d = tmp_path / "config"
    d.mkdir()
    (d / "tiers.yml").write_text("hysteresis:\n  margin: 2.0\n  consecutive_nights: 3\n")
    return d


@pytest.fixture(params=["duckdb", "postgresql"])
def db(request, tmp_path: Path) -> Warehouse:
    """An empty build warehouse with a hand-filled score mart: the embedded file or a PostgreSQL database."""
    url = "" if request.param == "duckdb" else request.getfixturevalue("pg_warehouse_url")()
    build = locate(url, tmp_path).build
    with connect(build) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.mart_account_tier_scores (account_id VARCHAR, score DOUBLE PRECISION, "
                    "proposed_tier VARCHAR, threshold_strategic DOUBLE PRECISION, threshold_key DOUBLE PRECISION, "
                    "threshold_standard DOUBLE PRECISION)")
        ensure_tier_state(con)
    return build


def proposed(score: float, thresholds: tuple[float, float, float] = THRESHOLDS) -> str:
    """What the mart's proposed_tier is for these lower bounds (strategic, key, standard)."""
    for tier, bound in zip(("strategic", "key", "standard"), thresholds, strict=True):
        if score >= bound:
            return tier
    return "other"


def write_scores(db: Warehouse, scores: dict[str, float]) -> None:
    """Tonight's mart rows: every group with thresholds 70/50/30 and its proposed tier."""
    with connect(db) as con:
        con.execute("DELETE FROM marts.mart_account_tier_scores")
        con.executemany("INSERT INTO marts.mart_account_tier_scores VALUES (?, ?, ?, ?, ?, ?)",
                        [[a, s, proposed(s), *THRESHOLDS] for a, s in scores.items()])


def night(db: Warehouse, config_dir: Path, day: date, scores: dict[str, float]) -> int:
    write_scores(db, scores)
    return reclassify(db, run_id=f"run-{day}", as_of=day, config_dir=config_dir).changes


def current(db: Warehouse) -> dict[str, tuple[str, bool]]:
    with connect(db, read_only=True) as con:
        rows = con.execute("SELECT account_id, tier, is_override FROM tiers.account_tier_history "
                           "WHERE valid_to IS NULL").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def test_first_classification_takes_the_proposed_tier(db: Warehouse, config_dir: Path) -> None:
    """A new group gets the tier its score proposes, with a reason, and an ops.tier_changes row."""
    assert night(db, config_dir, NIGHT0, {"G1": 71.0, "G2": 10.0}) == 2
    assert current(db) == {"G1": ("strategic", False), "G2": ("other", False)}
    with connect(db, read_only=True) as con:
        reasons = con.execute("SELECT reason FROM ops.tier_changes ORDER BY account_id").fetchall()
    assert reasons[0][0].startswith("first classification: score 71.0")


def test_wobble_within_margin_does_not_flip_but_n_nights_beyond_does(db: Warehouse, config_dir: Path) -> None:
    """A score wobbling around a boundary by less than the margin holds; 3 nights beyond it moves."""
    night(db, config_dir, NIGHT0, {"G1": 60.0})
    wobble = [70.5, 69.5, 71.0, 69.0]
    for i, score in enumerate(wobble, start=1):
        assert night(db, config_dir, NIGHT0 + timedelta(days=i), {"G1": score}) == 0
    assert current(db)["G1"] == ("key", False)
    for i, score in enumerate([70.5, 71.0, 70.8], start=10):
        night(db, config_dir, NIGHT0 + timedelta(days=i), {"G1": score})
    assert current(db)["G1"] == ("strategic", False)
    with connect(db, read_only=True) as con:
        reason = con.execute("SELECT reason FROM tiers.account_tier_history WHERE valid_to IS NULL").fetchone()
    assert reason is not None and "for 3 consecutive nights" in reason[0]


def test_crossing_by_the_margin_moves_at_once_with_reason(db: Warehouse, config_dir: Path) -> None:
    """A score beyond the boundary by at least the margin moves the tier the same night."""
    night(db, config_dir, NIGHT0, {"G1": 60.0})
    assert night(db, config_dir, NIGHT0 + timedelta(days=1), {"G1": 72.3}) == 1
    with connect(db, read_only=True) as con:
        reason = con.execute("SELECT reason FROM ops.tier_changes WHERE to_tier = 'strategic'").fetchone()
    assert reason == ("score 72.3 crossed key→strategic boundary 70 by margin 2",)


def test_override_wins_until_expiry_then_hands_back(db: Warehouse, config_dir: Path) -> None:
    """A manual override sets the tier (is_override, reason) until expires_on; afterwards the score decides."""
    night(db, config_dir, NIGHT0, {"G1": 40.0})
    with connect(db) as con:
        con.execute("INSERT INTO tiers.tier_overrides VALUES ('G1', 'strategic', 'board decision', 'ann', CAST(? AS DATE))",
                    [NIGHT0 + timedelta(days=2)])
    night(db, config_dir, NIGHT0 + timedelta(days=1), {"G1": 40.0})
    assert current(db)["G1"] == ("strategic", True)
    assert night(db, config_dir, NIGHT0 + timedelta(days=2), {"G1": 40.0}) == 0
    night(db, config_dir, NIGHT0 + timedelta(days=3), {"G1": 40.0})
    assert current(db)["G1"] == ("standard", False)
    with connect(db, read_only=True) as con:
        reasons = [r[0] for r in con.execute(
            "SELECT reason FROM tiers.account_tier_history ORDER BY valid_from").fetchall()]
    assert "manual override by ann" in reasons[1] and "board decision" in reasons[1]
    assert reasons[2].startswith("override ended")


def test_same_night_twice_is_idempotent(db: Warehouse, config_dir: Path) -> None:
    """Re-running the same as_of makes no changes and writes no rows."""
    night(db, config_dir, NIGHT0, {"G1": 60.0, "G2": 20.0})
    night(db, config_dir, NIGHT0 + timedelta(days=1), {"G1": 75.0, "G2": 20.0})
    with connect(db, read_only=True) as con:
        before = con.execute("SELECT count(*) FROM tiers.account_tier_history").fetchone()
    assert night(db, config_dir, NIGHT0 + timedelta(days=1), {"G1": 20.0, "G2": 90.0}) == 0
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM tiers.account_tier_history").fetchone() == before
        assert con.execute("SELECT count(*) FROM ops.tier_changes").fetchone() == (3,)


def test_history_chain_is_consistent(db: Warehouse, config_dir: Path) -> None:
    """Each account has one current row, and every closed row ends where the next one starts."""
    for i, score in enumerate([60.0, 75.0, 45.0, 20.0, 80.0]):
        night(db, config_dir, NIGHT0 + timedelta(days=i), {"G1": score})
    with connect(db, read_only=True) as con:
        rows = con.execute("SELECT valid_from, valid_to FROM tiers.account_tier_history "
                           "WHERE account_id = 'G1' ORDER BY valid_from").fetchall()
    assert len(rows) == 5 and rows[-1][1] is None
    assert all(prev[1] == nxt[0] for prev, nxt in pairwise(rows))


def test_set_based_step_matches_the_per_group_reference_over_random_nights(db: Warehouse, config_dir: Path) -> None:
    """40 groups over 20 nights with scores wobbling around the boundaries, two-tier jumps, overrides
    that start, get replaced and expire, and groups that come and go: the SQL step's tier, override flag
    and reason per group and night equal a plain per-group Python replay of the documented rules."""
    import random

    from kam_warehouse.tiers.settings import load_tier_settings
    from tests.tiers.decide_reference import Candidate, Current, Override, Scored, decide

    cfg = load_tier_settings(config_dir)
    rng = random.Random(7)
    groups = [f"G{i:02d}" for i in range(40)]
    bounds = {"strategic": THRESHOLDS[0], "key": THRESHOLDS[1], "standard": THRESHOLDS[2]}
    ref_current: dict[str, Current] = {}
    ref_candidates: dict[str, Candidate] = {}
    overrides: dict[str, Override] = {}
    for n in range(20):
        day = NIGHT0 + timedelta(days=n)
        if n % 4 == 1:
            g = rng.choice(groups)
            overrides[g] = Override(rng.choice(["other", "standard", "key", "strategic"]), f"reason {n}",
                                    "ann", day + timedelta(days=rng.randint(0, 3)))
            with connect(db) as con:
                con.execute("DELETE FROM tiers.tier_overrides WHERE account_id = ?", [g])
                con.execute("INSERT INTO tiers.tier_overrides VALUES (?, ?, ?, ?, ?)",
                            [g, overrides[g].tier, overrides[g].reason, "ann", overrides[g].expires_on])
        scores = {g: round(rng.choice([30.0, 50.0, 70.0]) + rng.uniform(-4.0, 4.0), 2) if rng.random() < 0.8
                  else round(rng.uniform(0, 100), 2) for g in groups[8:] if rng.random() < 0.95}
        # eight groups start below 50 and then stay just above it (by less than the margin)
        scores |= {g: 45.0 if n == 0 else round(50 + rng.uniform(0.2, 1.8), 2) for g in groups[:8]}
        night(db, config_dir, day, scores)
        expected: dict[str, tuple[str, bool, str]] = {}
        kept: dict[str, Candidate] = {}
        for g, score in sorted(scores.items()):
            active = overrides.get(g) if g in overrides and overrides[g].expires_on >= day else None
            d = decide(Scored(g, score, bounds), ref_current.get(g), active, ref_candidates.get(g), day, cfg)
            if d.candidate is not None:
                kept[g] = d.candidate
            if d.new_tier is not None:
                ref_current[g] = Current(d.new_tier, d.is_override)
                expected[g] = (d.new_tier, d.is_override, d.reason)
        ref_candidates = kept
        with connect(db, read_only=True) as con:
            got = {r[0]: (r[1], r[2], r[3]) for r in con.execute(
                "SELECT account_id, tier, is_override, reason FROM tiers.account_tier_history WHERE valid_from = ?",
                [day]).fetchall()}
            candidates = {r[0]: Candidate(*r[1:]) for r in con.execute(
                "SELECT account_id, candidate_tier, first_seen, last_seen, nights FROM tiers.tier_candidates"
            ).fetchall()}
        assert got == expected, f"night {n}"
        assert candidates == ref_candidates, f"night {n}"
    with connect(db, read_only=True) as con:
        reasons = " | ".join(r[0] for r in con.execute("SELECT reason FROM ops.tier_changes").fetchall())
    for rule in ("first classification", "manual override", "override ended", "crossed", "consecutive nights"):
        assert rule in reasons, f"the random nights never exercised '{rule}'"


def test_the_step_takes_proposed_tier_from_the_mart_not_from_the_thresholds(db: Warehouse, config_dir: Path) -> None:
    """The threshold -> tier mapping lives in dbt only: a mart row whose proposed_tier disagrees with its
    thresholds (as a changed dbt mapping would) is classified as the mart proposes."""
    with connect(db) as con:
        con.execute("INSERT INTO marts.mart_account_tier_scores VALUES ('G1', 10.0, 'strategic', 70, 50, 30)")
    assert reclassify(db, run_id="r", as_of=NIGHT0, config_dir=config_dir).changes == 1
    assert current(db) == {"G1": ("strategic", False)}


def test_an_unknown_proposed_tier_fails_the_step_without_writing(db: Warehouse, config_dir: Path) -> None:
    """A mart row proposing a tier the step does not know stops the step naming the group; nothing is
    written and the night is not marked done."""
    from kam_warehouse.errors import StepFailed

    with connect(db) as con:
        con.execute("INSERT INTO marts.mart_account_tier_scores VALUES ('G1', 50.0, 'gold', 70, 50, 30), "
                    "('G2', 50.0, 'key', 70, 50, 30)")
    with pytest.raises(StepFailed, match="G1: 'gold'"):
        reclassify(db, run_id="r", as_of=NIGHT0, config_dir=config_dir)
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM tiers.account_tier_history").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM tiers.tier_runs").fetchone() == (0,)
