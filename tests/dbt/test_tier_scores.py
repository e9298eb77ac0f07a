"""mart_account_tier_scores: one row per group with the columns the tier step and the gate rely on."""

from __future__ import annotations

import pytest

COLUMNS = (
    "account_id", "segment", "as_of_date", "revenue_t12m", "growth_yoy", "weighted_pipeline", "wallet_headroom",
    "revenue_score", "potential_score", "strategic_score", "relationship_score", "w_revenue", "w_potential",
    "w_strategic", "w_relationship", "missing_inputs", "is_renormalised", "score", "threshold_strategic",
    "threshold_key", "threshold_standard", "proposed_tier", "nine_box_cell", "quadrant", "play",
)


def test_one_row_per_active_or_pipeline_group(book_db) -> None:
    """Groups with revenue in the last 12 months plus the pipeline-only prospect; members (A2, F1),
    merged accounts (A3) and the lapsed D1 have no row."""
    ids = {a for (a,) in book_db.execute("select account_id from marts.mart_account_tier_scores").fetchall()}
    assert ids == {"A1", "B1", "C1", "E1", "P1"}


def test_contract_columns_and_group_revenue(book_db) -> None:
    """All contract columns exist; A1's revenue_t12m rolls up A2 (incl. merged A3) and A1 itself."""
    frame = book_db.execute("select * from marts.mart_account_tier_scores").df().set_index("account_id")
    assert set(COLUMNS) - {"account_id"} <= set(frame.columns)
    assert frame.loc["A1", "revenue_t12m"] == pytest.approx(24000.0)
    assert frame.loc["P1", "weighted_pipeline"] == pytest.approx(50000.0)


def test_missing_inputs_renormalise_weights(book_db) -> None:
    """E1 has no potential or relationship inputs: those weights drop to 0, the rest sum to 1 and
    the score is the re-weighted mean of the remaining dimensions."""
    row = book_db.execute(
        "select missing_inputs, is_renormalised, w_potential, w_relationship, w_revenue + w_strategic,"
        " score, w_revenue * revenue_score + w_strategic * strategic_score"
        " from marts.mart_account_tier_scores where account_id = 'E1'").fetchone()
    assert row[0] == "potential,relationship" and row[1] is True
    assert row[2] == 0 and row[3] == 0 and row[4] == pytest.approx(1.0)
    assert row[5] == pytest.approx(row[6])


def test_prospect_play_is_acquire(book_db) -> None:
    """A group with open pipeline and no revenue ever gets the 'acquire' play."""
    assert book_db.execute(
        "select play from marts.mart_account_tier_scores where account_id = 'P1'").fetchone() == ("acquire",)
