"""Nightly tier reclassification: first classification, hysteresis, overrides, idempotence, history chain."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest

from kam_warehouse.tiers import reclassify
from kam_warehouse.tiers.state import ensure_tier_state

NIGHT0 = date(2025, 3, 1)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    d = tmp_path / "config"
    d.mkdir()
    (d / "tiers.yml").write_text("hysteresis:\n  margin: 2.0\n  consecutive_nights: 3\n")
    return d


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "build.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA intermediate")
        con.execute("CREATE TABLE intermediate.int_account_tier_scores (account_id VARCHAR, score DOUBLE, "
                    "threshold_strategic DOUBLE, threshold_key DOUBLE, threshold_standard DOUBLE)")
        ensure_tier_state(con)
    return path


def night(db: Path, config_dir: Path, day: date, scores: dict[str, float]) -> int:
    with duckdb.connect(str(db)) as con:
        con.execute("DELETE FROM intermediate.int_account_tier_scores")
        for account, score in scores.items():
            con.execute("INSERT INTO intermediate.int_account_tier_scores VALUES (?, ?, 70, 50, 30)", [account, score])
    return reclassify(db, run_id=f"run-{day}", as_of=day, config_dir=config_dir).changes


def current(db: Path) -> dict[str, tuple[str, bool]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT account_id, tier, is_override FROM tiers.account_tier_history "
                           "WHERE valid_to IS NULL").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def test_first_classification_takes_the_proposed_tier(db: Path, config_dir: Path) -> None:
    """A new group gets the tier its score proposes, with a reason, and an ops.tier_changes row."""
    assert night(db, config_dir, NIGHT0, {"G1": 71.0, "G2": 10.0}) == 2
    assert current(db) == {"G1": ("strategic", False), "G2": ("other", False)}
    with duckdb.connect(str(db), read_only=True) as con:
        reasons = con.execute("SELECT reason FROM ops.tier_changes ORDER BY account_id").fetchall()
    assert reasons[0][0].startswith("first classification: score 71.0")


def test_wobble_within_margin_does_not_flip_but_n_nights_beyond_does(db: Path, config_dir: Path) -> None:
    """A score wobbling around a boundary by less than the margin holds; 3 nights beyond it moves."""
    night(db, config_dir, NIGHT0, {"G1": 60.0})
    wobble = [70.5, 69.5, 71.0, 69.0]
    for i, score in enumerate(wobble, start=1):
        assert night(db, config_dir, NIGHT0 + timedelta(days=i), {"G1": score}) == 0
    assert current(db)["G1"] == ("key", False)
    for i, score in enumerate([70.5, 71.0, 70.8], start=10):
        night(db, config_dir, NIGHT0 + timedelta(days=i), {"G1": score})
    assert current(db)["G1"] == ("strategic", False)
    with duckdb.connect(str(db), read_only=True) as con:
        reason = con.execute("SELECT reason FROM tiers.account_tier_history WHERE valid_to IS NULL").fetchone()
    assert reason is not None and "for 3 consecutive nights" in reason[0]


def test_crossing_by_the_margin_moves_at_once_with_reason(db: Path, config_dir: Path) -> None:
    """A score beyond the boundary by at least the margin moves the tier the same night."""
    night(db, config_dir, NIGHT0, {"G1": 60.0})
    assert night(db, config_dir, NIGHT0 + timedelta(days=1), {"G1": 72.3}) == 1
    with duckdb.connect(str(db), read_only=True) as con:
        reason = con.execute("SELECT reason FROM ops.tier_changes WHERE to_tier = 'strategic'").fetchone()
    assert reason == ("score 72.3 crossed key→strategic boundary 70 by margin 2",)


def test_override_wins_until_expiry_then_hands_back(db: Path, config_dir: Path) -> None:
    """A manual override sets the tier (is_override, reason) until expires_on; afterwards the score decides."""
    night(db, config_dir, NIGHT0, {"G1": 40.0})
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO tiers.tier_overrides VALUES ('G1', 'strategic', 'board decision', 'ann', ?)",
                    [NIGHT0 + timedelta(days=2)])
    night(db, config_dir, NIGHT0 + timedelta(days=1), {"G1": 40.0})
    assert current(db)["G1"] == ("strategic", True)
    assert night(db, config_dir, NIGHT0 + timedelta(days=2), {"G1": 40.0}) == 0
    night(db, config_dir, NIGHT0 + timedelta(days=3), {"G1": 40.0})
    assert current(db)["G1"] == ("standard", False)
    with duckdb.connect(str(db), read_only=True) as con:
        reasons = [r[0] for r in con.execute(
            "SELECT reason FROM tiers.account_tier_history ORDER BY valid_from").fetchall()]
    assert "manual override by ann" in reasons[1] and "board decision" in reasons[1]
    assert reasons[2].startswith("override ended")


def test_same_night_twice_is_idempotent(db: Path, config_dir: Path) -> None:
    """Re-running the same as_of makes no changes and writes no rows."""
    night(db, config_dir, NIGHT0, {"G1": 60.0, "G2": 20.0})
    night(db, config_dir, NIGHT0 + timedelta(days=1), {"G1": 75.0, "G2": 20.0})
    with duckdb.connect(str(db), read_only=True) as con:
        before = con.execute("SELECT count(*) FROM tiers.account_tier_history").fetchone()
    assert night(db, config_dir, NIGHT0 + timedelta(days=1), {"G1": 20.0, "G2": 90.0}) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM tiers.account_tier_history").fetchone() == before
        assert con.execute("SELECT count(*) FROM ops.tier_changes").fetchone() == (3,)


def test_history_chain_is_consistent(db: Path, config_dir: Path) -> None:
    """Each account has one current row, and every closed row ends where the next one starts."""
    for i, score in enumerate([60.0, 75.0, 45.0, 20.0, 80.0]):
        night(db, config_dir, NIGHT0 + timedelta(days=i), {"G1": score})
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT valid_from, valid_to FROM tiers.account_tier_history "
                           "WHERE account_id = 'G1' ORDER BY valid_from").fetchall()
    assert len(rows) == 5 and rows[-1][1] is None
    assert all(prev[1] == nxt[0] for prev, nxt in pairwise(rows))
