"""The nightly pipeline's steps. `kam run` and the Airflow DAGs call exactly these functions.

load -> dbt build -> quality gate -> tier reclassification -> publish

Each step is recorded in `ops.pipeline_runs` (kam_warehouse.runlog) and raises a KamError subclass with
a message a person can act on when it fails. Nothing after the gate runs when a blocking check fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from kam_warehouse.asof import as_of_date
from kam_warehouse.errors import GateBlocked, LandingProblem, StepFailed
from kam_warehouse.runlog import StepRecord, recorded_step, write_row
from kam_warehouse.settings import Settings

if TYPE_CHECKING:
    from kam_warehouse.dbt import DbtResult

Progress = Callable[[str], None]

STEPS: tuple[str, ...] = ("load", "dbt_build", "quality_gate", "tiers", "publish")
#: how long a command-line writer waits for the warehouse before it says who holds it
LOCK_WAIT_SECONDS = 10.0


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class RunContext:
    settings: Settings
    run_id: str
    triggered_by: str = "cli"
    progress: Progress = _quiet

    @classmethod
    def new(cls, settings: Settings, *, triggered_by: str = "cli", progress: Progress = _quiet) -> RunContext:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        return cls(settings=settings, run_id=f"{triggered_by}__{stamp}", triggered_by=triggered_by,
                   progress=progress)

    def step(self, name: str):  # -> ContextManager[StepRecord]
        from kam_warehouse.startup import prepare_step

        prepare_step(self.settings, step=name)  # umask 077, PII key, recovery after a kill (issue 18)
        return recorded_step(self.settings.build, run_id=self.run_id, step=name,
                             triggered_by=self.triggered_by)


@dataclass
class StepOutcome:
    step: str
    record: StepRecord
    detail: dict[str, object] = field(default_factory=dict)


def check_landing(settings: Settings) -> list[str]:
    """Up-front check of the landing zone, before anything is created or built.

    Raises LandingProblem when the landing path is missing or not a folder, holds nothing at all, or
    holds no complete day folder while the build warehouse has nothing loaded yet (a run could only
    fail later). Returns one notice per entry that will not be read (ingest.landing.survey), e.g.
    "billing/2026-01-07: no _SUCCESS yet, not read".
    """
    from ingest.contract import SOURCES
    from ingest.landing import survey

    landing = settings.landing_dir
    if not landing.exists():
        raise LandingProblem(f"the landing path {landing} does not exist: check --landing / KAM_LANDING_DIR "
                             "(it should hold billing/<YYYY-MM-DD>/ and crm/<YYYY-MM-DD>/ day folders)")
    if not landing.is_dir():
        raise LandingProblem(f"the landing path {landing} is not a folder: check --landing / KAM_LANDING_DIR")
    found = survey(landing)
    notices = [f"{child.name}/: not a source folder (expected {', '.join(SOURCES)}), not read"
               for child in sorted(landing.iterdir())
               if child.is_dir() and child.name not in SOURCES and not child.name.startswith(".")]
    notices += [*found.notices, *found.refused.values()]
    if any(found.complete.values()):
        return notices
    if not notices:
        raise LandingProblem(
            f"the landing path {landing} holds no extract day folder: expected billing/<YYYY-MM-DD>/ and "
            "crm/<YYYY-MM-DD>/ folders, each complete with a _SUCCESS file")
    if as_of_date(settings.build) is None:
        raise LandingProblem(
            f"nothing to load: no day folder under {landing} is complete (has its _SUCCESS file) and the "
            "build warehouse has nothing loaded yet: " + "; ".join(notices))
    return notices


def step_load(ctx: RunContext, *, sources: Iterable[str] | None = None, through_day: date | None = None) -> StepOutcome:
    """Load every complete landing day not yet loaded (per source, in date order) into raw.*."""
    from ingest.contract import SOURCES
    from ingest.load import load_landing
    from ingest.working import working_path

    s = ctx.settings
    s.ensure_dirs()
    with ctx.step("load") as rec:
        report = load_landing(
            s.landing_dir, s.build, run_id=ctx.run_id, rejected_dir=s.rejected_dir,
            sources=tuple(sources) if sources else SOURCES, through_day=through_day, progress=ctx.progress,
            working_db=working_path(s.warehouse_dir), limits=s.duckdb_limits(),
        )
        rec.rows_in = report.rows_read
        rec.rows_out = report.rows_loaded
        rec.message = report.summary()
    return StepOutcome("load", rec, {"report": report})


def step_dbt_build(ctx: RunContext, *, select: str | None = None, exclude: str | None = None) -> StepOutcome:
    """dbt build (models, seeds, tests, unit tests) against the build warehouse; on a narrow night its data
    tests read what changed (kam_warehouse.test_scope)."""
    from kam_warehouse import dbt, test_scope

    with ctx.step("dbt_build") as rec:
        selected = bool(select or exclude)
        scope, record = test_scope.plan(ctx.settings, project_dir=dbt.DBT_PROJECT_DIR, selected=selected)
        ctx.progress(f"dbt build ({scope.describe()}) ...")
        test_scope.write_pending(ctx.settings, None)  # an earlier build's record is not this build's
        if scope.skips_unit_tests:
            exclude = "resource_type:unit_test"  # a narrow night is never a selection
        try:
            result = dbt.build(ctx.settings, select=select, exclude=exclude, test_scope=scope)
        except dbt.DbtFailed as exc:
            if not _only_tests_failed(exc.result):
                raise
            # every model built; what failed are tests: the quality gate judges them with the GX checks
            # (one verdict, recorded in ops.dq_results) and holds tiers and publish back
            result = exc.result
            rec.extra["status"] = "failed"
        # every model built: what the gate promotes once it passes on this build (nothing for a selection)
        test_scope.write_pending(ctx.settings, None if selected else record)
        rec.rows_out = result.nodes_ok
        rec.message = f"{result.summary()}; {scope.describe()}"
    return StepOutcome("dbt_build", rec, {"result": result})


def _only_tests_failed(result: DbtResult) -> bool:
    failed = result.failed_nodes
    return bool(failed) and all(n.resource_type in ("test", "unit_test") for n in failed)


def step_quality_gate(ctx: RunContext) -> StepOutcome:
    """Judge the dbt build's tests and run the GX checks; on a failed `block` check record the hold-back and
    raise GateBlocked."""
    from expectations.gate import run_gate
    from kam_warehouse.dbt import last_build_dir
    from kam_warehouse.test_scope import build_narrow_since

    s = ctx.settings
    with ctx.step("quality_gate") as rec:
        ctx.progress("quality gate ...")
        result = run_gate(s.build, run_id=ctx.run_id, config_dir=s.config_dir, data_docs_dir=s.data_docs_dir,
                          dbt_target_dir=last_build_dir(s), narrow_since=build_narrow_since(s))
        rec.rows_in = len(result.results)
        rec.gate_outcome = result.outcome
        rec.message = result.summary()
        if result.passed:
            from kam_warehouse.test_scope import promote

            promote(s)  # the build's raw batches are tested: the next night narrows from them
        else:
            from kam_warehouse.fx_hold import describe_awaiting_fx

            _record_held_back(ctx, result.failed_blocking)
            raise GateBlocked(result.failed_blocking, awaiting_fx=describe_awaiting_fx(s.build))
    return StepOutcome("quality_gate", rec, {"gate": result})


def _record_held_back(ctx: RunContext, failed: list[str]) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    reason = "held back by the quality gate: " + "; ".join(failed)
    for step in ("tiers", "publish"):
        write_row(ctx.settings.build, run_id=ctx.run_id, step=step, status="held_back", started_at=now,
                  ended_at=now, record=StepRecord(gate_outcome="blocked", tier_changes=0, message=reason),
                  triggered_by=ctx.triggered_by)


def step_tiers(ctx: RunContext) -> StepOutcome:
    """Nightly tier reclassification (only after the gate passed).

    Models that show tiers (marts.dim_account, marts.account_tier_history) are views over the tier state,
    so they are current as soon as this step commits; publish materialises them.
    """
    from kam_warehouse.tiers import reclassify

    s = ctx.settings
    with ctx.step("tiers") as rec:
        as_of = as_of_date(s.build)
        if as_of is None:
            raise StepFailed("tiers", "no extract day has been loaded yet; run the load step first")
        ctx.progress(f"tier reclassification as of {as_of} ...")
        result = reclassify(s.build, run_id=ctx.run_id, as_of=as_of, config_dir=s.config_dir)
        rec.tier_changes = result.changes
        rec.rows_out = result.scored
        rec.message = result.summary()
    return StepOutcome("tiers", rec, {"tiers": result})


def step_publish(ctx: RunContext) -> StepOutcome:
    """Write-audit-publish: atomically replace the serving warehouse with this build's marts and ops."""
    from kam_warehouse.serving import publish

    with ctx.step("publish") as rec:
        ctx.progress("publishing the serving warehouse ...")
        result = publish(ctx.settings, run_id=ctx.run_id)
        rec.rows_out = result.tables
        rec.message = f"published {result.tables} tables to {result.serving_path}"
    return StepOutcome("publish", rec, {"publish": result})


def run_nightly(
    ctx: RunContext,
    *,
    on_step: Callable[[StepOutcome], None] | None = None,
    landing_checked: bool = False,
    rebuild: bool = False,
) -> list[StepOutcome]:
    """Every step of the nightly DAG, in order, without a scheduler (what `kam run` does).

    The landing zone is checked first (check_landing: a missing, empty or incomplete landing stops the
    run before dbt) unless the caller already did; `on_step` is told about each step as it completes.
    After the load, a night with nothing new (kam_warehouse.night_inputs) records the later steps
    `skipped` and ends with one outcome saying why, unless `rebuild` (e.g. after deploying changed models).
    """
    from kam_warehouse.locking import warehouse_lock
    from kam_warehouse.settings import require_pii_key

    require_pii_key()  # refuse to start without the contact-data HMAC key (issue 18)
    if not landing_checked:
        check_landing(ctx.settings)
    steps = (step_load, step_dbt_build, step_quality_gate, step_tiers, step_publish)
    outcomes: list[StepOutcome] = []
    with warehouse_lock(ctx.settings.lock_file, owner=f"kam run {ctx.run_id}", wait_seconds=LOCK_WAIT_SECONDS):
        for step in steps:
            outcomes.append(step(ctx))
            if on_step is not None:
                on_step(outcomes[-1])
            if step is step_load and not rebuild and (skipped := _skip_if_nothing_new(ctx)) is not None:
                outcomes.append(skipped)
                if on_step is not None:
                    on_step(skipped)
                break
    return outcomes


def _skip_if_nothing_new(ctx: RunContext) -> StepOutcome | None:
    """When nothing changed since the served build: record the steps after load `skipped` (with the
    reason) and return the one outcome that says so; None when the night must run."""
    from kam_warehouse.night_inputs import nothing_new

    reason = nothing_new(ctx.settings)
    if reason is None:
        return None
    ctx.progress(reason)
    now = datetime.now(UTC).replace(tzinfo=None)
    record = StepRecord(message=reason)
    for step in STEPS[1:]:
        write_row(ctx.settings.build, run_id=ctx.run_id, step=step, status="skipped", started_at=now,
                  ended_at=now, record=record, triggered_by=ctx.triggered_by)
    return StepOutcome("publish", record, {"skipped": True})
