"""Issue 6 end to end: bad data never moves a tier.

One clean night (generated extracts -> load -> dbt build -> gate -> tiers -> publish) runs once per
module. Every other test works on a copy of it: it lands a new day folder and runs the next night with
the real pipeline, then checks what moved and what did not.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from ingest.contract import DEFECT_OUTCOMES
from ingest.errors import FileRejected
from ingest.landing import complete_days
from kam_warehouse.errors import GateBlocked
from kam_warehouse.pipeline import (
    RunContext,
    StepOutcome,
    run_nightly,
    step_dbt_build,
    step_load,
    step_publish,
    step_quality_gate,
    step_tiers,
)
from kam_warehouse.settings import Settings
from kam_warehouse.tiers import TierRunResult
from kam_warehouse.tiers.settings import TIER_ORDER
from sample_extracts import GeneratorOptions, generate

# the suite runs with --import-mode=importlib: make this folder's helper module importable
sys.path.insert(0, str(Path(__file__).parent))

from gate_scenarios import (
    FILE_SCENARIOS,
    QUARANTINE_SHARE,
    ROW_SCENARIOS,
    DefectScenario,
    Snapshot,
    approx_rows,
    clean_delta,
    clone_night,
    covered_classes,
    next_day,
    night_settings,
    quarantine_share_config,
    query,
    run_rows,
    snapshot,
)

pytestmark = pytest.mark.e2e

#: a small book: the whole module runs in a few minutes on two cores
BOOK = {"accounts": 50, "months": 18, "seed": 11}


@dataclass(frozen=True)
class CleanNight:
    root: Path
    settings: Settings
    before: Snapshot


@pytest.fixture(scope="module", autouse=True)
def _no_telemetry() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
        mp.setenv("DO_NOT_TRACK", "1")
        mp.setenv("GX_ANALYTICS_ENABLED", "false")
        yield


def run_steps(ctx: RunContext, *, through_day: date | None = None) -> dict[str, StepOutcome]:
    """The five nightly steps in order, as `kam run` runs them (load optionally stops at a day)."""
    outcomes = [step_load(ctx, through_day=through_day)]
    outcomes += [step(ctx) for step in (step_dbt_build, step_quality_gate, step_tiers, step_publish)]
    return {o.step: o for o in outcomes}


@pytest.fixture(scope="module")
def clean_night(tmp_path_factory: pytest.TempPathFactory, _no_telemetry: None) -> CleanNight:
    root = tmp_path_factory.mktemp("clean-night")
    settings = night_settings(root)
    generate(GeneratorOptions(out=settings.landing_dir, days=2, **BOOK))
    outcomes = run_steps(RunContext.new(settings, triggered_by="e2e"))
    assert outcomes["tiers"].record.tier_changes, "the clean night classified no group"
    return CleanNight(root, settings, snapshot(settings))


@pytest.fixture
def night(clean_night: CleanNight, tmp_path: Path) -> Settings:
    """A private copy of the clean night (landing + warehouse) to run the next night on."""
    return clone_night(clean_night.root, tmp_path / "night")


@pytest.fixture(scope="module")
def max_share() -> float:
    cfg = quarantine_share_config()
    assert cfg.severity == "block", f"{QUARANTINE_SHARE} is not blocking in config/quality.yml"
    return float(cfg.params["max_share"])


def assert_nothing_moved(settings: Settings, run_id: str, before: Snapshot) -> None:
    """The tier state, the change log and the served file are exactly as before the run."""
    after = snapshot(settings)
    assert after.tier_history == before.tier_history, "tiers.account_tier_history changed"
    assert after.tier_runs == before.tier_runs, "the held-back night was recorded as reclassified"
    assert after.tier_changes == before.tier_changes
    assert query(settings, "SELECT count(*) FROM ops.tier_changes WHERE run_id = ?", [run_id]) == [(0,)]
    assert (after.serving_sha256, after.serving_mtime_ns) == (before.serving_sha256, before.serving_mtime_ns), \
        "serving.duckdb was replaced"
    assert after.serving_tier_history == before.serving_tier_history


def test_scenarios_cover_every_defect_class() -> None:
    """Every defect class the contract (and so the generator) knows has a scenario below, with the same
    outcome: a new class cannot be added without a proof that it holds the tiers back."""
    assert covered_classes() == DEFECT_OUTCOMES


@pytest.mark.parametrize("scenario", ROW_SCENARIOS, ids=lambda s: s.defect)
def test_row_defect_blocks_at_the_gate(scenario: DefectScenario, night: Settings, max_share: float) -> None:
    """A file of the new day whose quarantined share (one defect class) exceeds the configured maximum
    fails the quarantine-share check naming that file; tiers and publish are held back, yesterday's
    tiers and the published serving warehouse stay exactly as they were."""
    before = snapshot(night)
    rel, defect = scenario.land(night.landing_dir, next_day(night.landing_dir), max_share)
    assert defect.quarantined > max_share * defect.records, "scenario does not breach the threshold"
    ctx = RunContext.new(night, triggered_by="e2e")

    with pytest.raises(GateBlocked) as raised:
        run_nightly(ctx)

    failed = raised.value.failed_checks
    assert len(failed) == 1, f"more than the injected defect failed: {failed}"
    assert failed[0].startswith(QUARANTINE_SHARE) and rel in failed[0]
    assert rel in str(raised.value)
    manifest = query(night, "SELECT status, rows_read, rows_quarantined FROM raw.load_manifest WHERE file_path = ?",
                     [rel])
    assert manifest == [("loaded", defect.records, defect.quarantined)]
    reasons = query(night, "SELECT DISTINCT split_part(reason, ':', 1) FROM raw.quarantine WHERE file_path = ?",
                    [rel])
    assert reasons == [(scenario.defect,)]
    ((success, details),) = query(night, "SELECT success, details FROM ops.dq_results "
                                         "WHERE run_id = ? AND expectation = ?", [ctx.run_id, QUARANTINE_SHARE])
    assert not success and rel in str(details)
    runs = run_rows(night, ctx.run_id)
    assert runs["quality_gate"][0] == "failed"
    for step in ("tiers", "publish"):
        status, message = runs[step]
        assert status == "held_back" and QUARANTINE_SHARE in message and rel in message
    assert_nothing_moved(night, ctx.run_id, before)


@pytest.mark.parametrize("scenario", FILE_SCENARIOS, ids=lambda s: s.defect)
def test_file_defect_fails_the_load(scenario: DefectScenario, night: Settings, max_share: float) -> None:
    """A file-level defect rejects the file at load: the run fails naming the file and the defect class,
    nothing after the load runs, and tiers and the serving warehouse do not move."""
    before = snapshot(night)
    rel, _ = scenario.land(night.landing_dir, next_day(night.landing_dir), max_share)
    ctx = RunContext.new(night, triggered_by="e2e")

    with pytest.raises(FileRejected) as raised:
        run_nightly(ctx)

    assert raised.value.file == rel
    assert raised.value.problem.startswith(f"{scenario.defect}:")
    assert rel in str(raised.value)
    runs = run_rows(night, ctx.run_id)
    assert set(runs) == {"load"}, f"steps after a failed load ran: {runs}"
    status, message = runs["load"]
    assert status == "failed" and rel in message and scenario.defect in message
    assert_nothing_moved(night, ctx.run_id, before)


def test_generated_defects_refuse_publish(tmp_path: Path) -> None:
    """Extracts from the generator with defects on (`_defects.json`): after a clean night on the
    full-history folder, the next night over the defective delta days fails at load naming a file and a
    file-level class the generator recorded; every quarantined row is a defect the generator injected;
    nothing after the load runs, nothing is published and no tier moves."""
    settings = night_settings(tmp_path)
    generate(GeneratorOptions(out=settings.landing_dir, days=3, defects=0.05, **BOOK))
    injected = json.loads((settings.landing_dir / "_defects.json").read_text(encoding="utf-8"))["defects"]
    first_day = min(complete_days(settings.landing_dir, "billing"))
    run_steps(RunContext.new(settings, triggered_by="e2e"), through_day=first_day)
    before = snapshot(settings)
    ctx = RunContext.new(settings, triggered_by="e2e")

    with pytest.raises(FileRejected) as raised:
        run_nightly(ctx)

    classes_of: dict[str, set[str]] = {}
    for d in injected:
        classes_of.setdefault(str(d["file"]), set()).add(str(d["class"]))
    rejected, defect = raised.value.file, raised.value.problem.split(":")[0]
    assert defect in classes_of.get(rejected, set()), f"{rejected}: {defect} is not in _defects.json"
    assert DEFECT_OUTCOMES[defect] == "reject_file"
    quarantined = query(settings, "SELECT file_path, split_part(reason, ':', 1) FROM raw.quarantine")
    assert quarantined, "the defective days quarantined nothing"
    for file_path, cls in quarantined:
        assert cls in classes_of.get(str(file_path), set()), f"{file_path}: {cls} was not injected"
    runs = run_rows(settings, ctx.run_id)
    assert set(runs) == {"load"} and runs["load"][0] == "failed" and rejected in runs["load"][1]
    assert_nothing_moved(settings, ctx.run_id, before)


def test_rerun_of_the_same_night_changes_nothing(clean_night: CleanNight, night: Settings) -> None:
    """Running the same night again (nothing new landed) loads nothing, makes no tier change, keeps the
    tier history and publishes the same concentration figures and tiers."""
    ctx = RunContext.new(night, triggered_by="e2e")
    outcomes = run_steps(ctx)

    assert outcomes["load"].record.rows_out == 0
    tiers = outcomes["tiers"].detail["tiers"]
    assert isinstance(tiers, TierRunResult)
    assert tiers.changes == 0 and tiers.already_done_by
    assert query(night, "SELECT count(*) FROM ops.tier_changes WHERE run_id = ?", [ctx.run_id]) == [(0,)]
    after = snapshot(night)
    before = clean_night.before
    assert after.tier_history == before.tier_history
    assert after.tier_runs == before.tier_runs
    assert after.serving_tier_history == before.serving_tier_history
    assert after.serving_sha256 != before.serving_sha256, "the re-run did not publish"
    assert approx_rows(after.serving_concentration, before.serving_concentration)


def _current(settings: Settings, group: str) -> tuple[object, ...]:
    rows = query(settings, "SELECT tier, valid_from, is_override, reason FROM tiers.account_tier_history "
                           "WHERE account_id = ? AND valid_to IS NULL", [group])
    assert len(rows) == 1, f"{group} has {len(rows)} current tiers"
    return rows[0]


def _changes(settings: Settings, run_id: str) -> list[tuple[object, ...]]:
    return query(settings, "SELECT account_id, from_tier, to_tier FROM ops.tier_changes WHERE run_id = ?", [run_id])


def test_override_holds_through_expiry_then_score_decides(clean_night: CleanNight, night: Settings) -> None:
    """An override set with `kam tiers override` is applied by the next night (history row flagged
    is_override with who and why), holds through its expires_on day (the as-of date), and on the first
    night after it the score's tier is back; no other group moves on either night."""
    from typer.testing import CliRunner

    from kam_warehouse.tiers.cli import app

    group, tier = next((a, t) for a, t, *_ in
                       query(night, "SELECT account_id, tier FROM tiers.account_tier_history "
                                    "WHERE valid_to IS NULL ORDER BY account_id"))
    forced = next(t for t in reversed(TIER_ORDER) if t != tier)
    day1 = next_day(night.landing_dir)
    result = CliRunner().invoke(app, [
        "override", str(group), "--tier", forced, "--reason", "board decision", "--set-by", "e2e-kam",
        "--expires-on", day1.isoformat(), "--warehouse", str(night.warehouse_dir)])
    assert result.exit_code == 0, result.output

    clean_delta(night.landing_dir, day1)
    during = RunContext.new(night, triggered_by="e2e")
    run_nightly(during)

    cur_tier, valid_from, is_override, reason = _current(night, str(group))
    assert (cur_tier, valid_from, is_override) == (forced, day1, True)
    assert "e2e-kam" in str(reason) and "board decision" in str(reason)
    assert _changes(night, during.run_id) == [(group, tier, forced)]
    served = snapshot(night).serving_tier_history
    assert (group, forced, day1, None) in [r[:4] for r in served], "the override was not published"

    day2 = next_day(night.landing_dir)
    clean_delta(night.landing_dir, day2)
    after = RunContext.new(night, triggered_by="e2e")
    run_nightly(after)

    cur_tier, valid_from, is_override, reason = _current(night, str(group))
    proposed = query(night, "SELECT proposed_tier FROM marts.mart_account_tier_scores WHERE account_id = ?",
                     [group])
    assert proposed == [(tier,)], "the score's tier changed although no data did"
    assert (cur_tier, valid_from, is_override) == (tier, day2, False)
    assert str(reason).startswith("override ended")
    assert _changes(night, after.run_id) == [(group, forced, tier)]
