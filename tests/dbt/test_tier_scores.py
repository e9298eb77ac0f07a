"""marts.mart_account_tier_scores against an independent pandas reference (tests/dbt/tier_reference.py,
written from docs/quality-and-tiers.md), on the hand-made book and on a generated book loaded by ingest.
The formulas themselves are pinned by the dbt unit tests in models/marts/tiers/_tiers__unit_tests.yml."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import book_settings
from tier_reference import reference_scores

from kam_warehouse.settings import Settings

NUMERIC = (
    "revenue_t12m", "revenue_t12m_prior", "revenue_lifetime", "growth_yoy", "weighted_pipeline", "wallet_headroom",
    "executive_visits_12m", "activities_recent", "avg_days_past_due_12m", "revenue_score", "growth_component",
    "pipeline_component", "headroom_component", "potential_score", "strategic_score", "activity_component",
    "payment_component", "relationship_score", "w_revenue", "w_potential", "w_strategic", "w_relationship", "score",
    "threshold_strategic", "threshold_key", "threshold_standard",
)
LABELS = ("segment", "is_strategic_type", "is_reference_customer", "missing_inputs", "proposed_tier",
          "contribution_band", "potential_band", "nine_box_cell", "quadrant", "play")


def assert_matches_reference(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every numeric column within 1e-6 (relative; money is rounded to 6 decimals), every label equal."""
    mart = con.execute("select * from marts.mart_account_tier_scores").df().set_index("account_id").sort_index()
    ref = reference_scores(con).sort_index()
    assert list(mart.index) == list(ref.index), "different groups scored"
    for col in NUMERIC:
        got, want = mart[col].astype(float).to_numpy(), ref[col].astype(float).to_numpy()
        assert np.array_equal(np.isnan(got), np.isnan(want)), f"{col}: nulls differ"
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, equal_nan=True, err_msg=col)
    for col in LABELS:
        diff = mart[col].astype(str) != ref[col].astype(str)
        assert not diff.any(), f"{col}: {mart.loc[diff, col].to_dict()} != {ref.loc[diff, col].to_dict()}"
    return mart


def test_hand_made_book_matches_the_reference(book_db) -> None:
    """Groups with revenue in 12 months plus the pipeline-only prospect are scored (members A2/F1, merged A3
    and lapsed D1 are not), and every column equals the reference computed from staging."""
    mart = assert_matches_reference(book_db)
    assert set(mart.index) == {"A1", "B1", "C1", "E1", "P1"}
    assert mart.loc["A1", "revenue_t12m"] == pytest.approx(24000.0)
    assert mart.loc["P1", "play"] == "acquire"
    assert mart.loc["E1", "missing_inputs"] == "potential,relationship"


@pytest.fixture(scope="module")
def generated_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated book (160 accounts, 26 months) loaded by ingest and built up to the tier score mart."""
    from ingest.load import load_landing
    from kam_warehouse import dbt
    from sample_extracts import GeneratorOptions, generate

    settings: Settings = book_settings(tmp_path_factory.mktemp("tier_book"))
    settings.ensure_dirs()
    generate(GeneratorOptions(out=settings.landing_dir, accounts=160, months=26, days=1, seed=11))
    load_landing(settings.landing_dir, settings.build_db, run_id="t", rejected_dir=settings.rejected_dir)
    dbt.invoke(settings, ["build", "--select", "+mart_account_tier_scores", "--indirect-selection", "cautious"])
    return settings.build_db


@pytest.mark.e2e
def test_generated_book_matches_the_reference(generated_book: Path) -> None:
    """On a generated book every component, weight, threshold, tier, box, quadrant and play equals the
    independent reference, and the book is varied enough to exercise them (several tiers, plays, boxes)."""
    with duckdb.connect(str(generated_book), read_only=True) as con:
        mart = assert_matches_reference(con)
    assert len(mart) >= 50
    assert mart["proposed_tier"].nunique() >= 3
    assert mart["play"].nunique() >= 3 and mart["quadrant"].nunique() >= 3
    assert mart["nine_box_cell"].nunique() >= 5
    assert mart["is_renormalised"].any() and not mart["is_renormalised"].all()


@pytest.mark.e2e
def test_simulate_reproduces_the_mart_and_the_reference_under_other_thresholds(generated_book: Path) -> None:
    """`kam tiers simulate`'s re-scoring with the seeds' own weights and thresholds gives the mart's score
    and proposed_tier for every group; with other weights and thresholds it gives the tiers the
    independent reference computes with them. The warehouse file is not modified."""
    from tier_reference import Windows, group_inputs, score

    from kam_warehouse.tiers.simulate import parse_spec, simulate

    before = generated_book.stat().st_mtime_ns, generated_book.read_bytes()
    same = simulate(generated_book, {}, {})
    with duckdb.connect(str(generated_book), read_only=True) as con:
        mart = con.execute("select account_id, score, proposed_tier from marts.mart_account_tier_scores"
                           ).df().set_index("account_id").sort_index()
        (as_of,) = con.execute("select max(extract_day) from raw.load_manifest where status = 'loaded'").fetchone()
        inputs = group_inputs(con, as_of, Windows())
        constants = dict(con.execute("select constant, value from seeds.tier_score_constants").fetchall())
    np.testing.assert_allclose(same.frame["simulated_score"], mart["score"], rtol=1e-12, atol=1e-9)
    assert (same.frame["simulated_tier"] == mart["proposed_tier"]).all()

    weights = "revenue=0.6,potential=0.1,strategic=0.1,relationship=0.2"
    other = simulate(generated_book, parse_spec([weights], ("revenue", "potential", "strategic", "relationship"),
                                                "--weights"),
                     parse_spec(["strategic=70,key=45,standard=20"], ("strategic", "key", "standard"), "--thresholds"))
    ref = score(inputs, other.weights.reset_index(), other.thresholds.reset_index(), constants, as_of, Windows())
    assert (other.frame["simulated_tier"] == ref["proposed_tier"].reindex(other.frame.index)).all()
    assert (other.frame["simulated_tier"] != same.frame["simulated_tier"]).sum() > 0
    assert (generated_book.stat().st_mtime_ns, generated_book.read_bytes()) == before
