"""Task bodies of the ingest and nightly DAGs. Each calls the pipeline step `kam run` calls.

Every body that writes the build warehouse runs inside `lease.writing(context)`: the one write lock, with
the run's lease for kam_nightly's tasks (claimed by `claim_night`, given back by `release_warehouse`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from kam_warehouse.orchestration import lease
from kam_warehouse.orchestration.runtime import fail_fast, landing_day, log, run_context

if TYPE_CHECKING:
    from kam_warehouse.core.warehouse import WarehouseTarget


def landing_complete(source: str, context: Any) -> bool:
    """Sensor body: has the run's landing day folder of `source` got its `_SUCCESS` marker?"""
    from ingest.landing import day_dir, is_complete
    from kam_warehouse.settings import Settings

    settings = Settings.from_env()
    day = landing_day(context)
    done = is_complete(settings.landing_dir, source, day)
    if not done:
        log.info("waiting for %s/_SUCCESS", day_dir(settings.landing_dir, source, day))
    return done


def load_source(source: str, context: Any) -> dict[str, Any]:
    """Load every pending complete day of `source` up to the run's landing day, in date order.

    Never during a night: while kam_nightly (or finance_monthly) holds the lease, this task waits
    (rescheduled) and loads after that run published. Never ahead of the sources it references: billing
    loads a day only once crm has loaded it (accounts must exist before billing rows referencing them
    are checked, as in `kam run`); until then it loads what it can and waits, rescheduled."""
    from kam_warehouse.pipeline import step_load

    day = landing_day(context)
    ctx = run_context(context)
    with fail_fast(), lease.writing(context, leased=False):
        notices = landing_notices(source, ctx.settings)  # opens the build warehouse: under the write lock
        ctx = replace(ctx, load_notices=tuple(notices))
        through, waiting_for = loadable_through(source, day, ctx.settings.build)
        outcome = step_load(ctx, sources=[source], through_day=through) if through else None
    if waiting_for:
        lease.reschedule_or_fail(
            f"{source} day {day} waits for {waiting_for} to load it first (accounts must exist before "
            f"{source} rows referencing them are checked); {source} loaded through {through or 'no day'}.",
            context)
    return {"source": source, "through_day": day.isoformat(),
            "rows_loaded": outcome.record.rows_out if outcome else 0,
            "summary": outcome.record.message if outcome else "nothing to load", "notices": notices}


def landing_notices(source: str, settings: Any) -> list[str]:
    """`kam run`'s up-front landing check (kam_warehouse.pipeline.check_landing) for one source's load:
    raises LandingProblem (the task fails, naming the path) when the landing zone is missing or empty;
    returns — and logs as warnings — the notices about entries that will not be read that concern
    `source` or no source (e.g. "billing/2026-01-07: no _SUCCESS yet, not read")."""
    from kam_warehouse.pipeline import check_landing

    notices = [n for n in check_landing(settings) if _concerns(n, source)]
    for notice in notices:
        log.warning("landing: %s", notice)
    return notices


def _concerns(notice: str, source: str) -> bool:
    """A notice about `source`'s folder, or about a folder that is no source's (shown to every ingest)."""
    from ingest.contract import SOURCES

    about = notice.split("/", 1)[0].split(":", 1)[0]
    return about == source or about not in SOURCES


def loadable_through(source: str, day: date, build: WarehouseTarget) -> tuple[date | None, str | None]:
    """How far `source` may load for a run of `day`: up to the day every source it references (those
    before it in ingest's SOURCE_ORDER) has loaded. Returns (through day or None, the source waited for)."""
    from ingest.landing import loaded_through
    from ingest.load import SOURCE_ORDER

    before = SOURCE_ORDER[:SOURCE_ORDER.index(source)] if source in SOURCE_ORDER else ()
    through: date | None = day
    waiting_for = None
    for other in before:
        loaded = loaded_through(build, other)
        if loaded is None or loaded < day:
            through = min(through, loaded) if through and loaded else None
            waiting_for = waiting_for or f"{other} day {day}"
    return through, waiting_for


def claim_night(context: Any) -> str:
    """kam_nightly's first task: claim the warehouse for the run, then decide whether there is a night.

    Skips the run (releasing the claim) when no loaded, unpublished day is complete for both sources;
    alerts when a source has stayed behind the other longer than `nightly.landing_wait_hours`."""
    from datetime import UTC, datetime

    from airflow.sdk.exceptions import AirflowSkipException

    from kam_warehouse.orchestration.config import load
    from kam_warehouse.orchestration.night import overdue_lags, read_plan, what_to_do
    from kam_warehouse.orchestration.notifications import alert

    settings = run_context(context).settings
    lease.acquire(context)
    try:
        with fail_fast():
            plan = read_plan(settings.build, settings.serving)
    except BaseException:
        lease.release(context)
        raise
    if plan.should_run:
        log.info("kam_nightly: %s", plan.describe())
        return plan.describe()
    lease.release(context)
    now = datetime.now(UTC).replace(tzinfo=None)
    for lag in overdue_lags(plan, now=now, grace=load().sensor_timeout):
        alert(f"{lag.describe()}. {what_to_do(lag, settings.landing_dir)}.", context)
    raise AirflowSkipException(f"kam_nightly: {plan.describe()}")


def release_warehouse(context: Any) -> bool:
    """Teardown of every writing DAG run: give the claim back (runs also after a failed task)."""
    return lease.release(context)


def quality_gate(context: Any) -> str | None:
    """Run the gate; a blocking failure fails the task (no retry) with a message naming the checks."""
    from kam_warehouse.pipeline import step_quality_gate

    with fail_fast(), lease.writing(context):
        return step_quality_gate(run_context(context)).record.message


def reclassify_tiers(context: Any) -> str | None:
    from kam_warehouse.pipeline import step_tiers

    with fail_fast(), lease.writing(context):
        return step_tiers(run_context(context)).record.message


def publish(context: Any) -> str | None:
    from kam_warehouse.pipeline import step_publish

    with fail_fast(), lease.writing(context):
        return step_publish(run_context(context)).record.message


def dbt_build(context: Any) -> dict[str, dict[str, str]]:
    """The one `dbt build` (the step `kam run` runs). Returns every model's outcome for its model task.

    A failed model does not fail this task: its layer's task in the `dbt_models` group turns red naming
    it with dbt's message, so the graph shows where the build broke. A dbt crash (no node results) fails here.
    """
    from kam_warehouse.dbt import DbtFailed
    from kam_warehouse.orchestration.dbt_models import model_outcomes
    from kam_warehouse.pipeline import step_dbt_build

    with fail_fast(), lease.writing(context):
        try:
            result = step_dbt_build(run_context(context)).detail["result"]
        except DbtFailed as exc:
            if not exc.result.nodes:
                raise
            log.error("%s", exc)
            result = exc.result
        return model_outcomes(result)


def dbt_layer(layer: str, context: Any) -> str:
    """One layer's task: report its models' outcomes from the `dbt_build` task (one log line per model);
    when cleared by a person (a later try), build the layer's failed and skipped models and their tests in
    one dbt invocation. The layer's models are read from the dbt manifest when the task runs, so a model
    added since the DAG was parsed is reported too."""
    from kam_warehouse.orchestration.dbt_models import (
        BUILD_TASK_ID,
        layer_models,
        rebuild_selection,
        report_layer,
    )

    ti = context["ti"]
    outcomes = ti.xcom_pull(task_ids=BUILD_TASK_ID)
    with fail_fast():
        models = layer_models(layer)
        if ti.try_number > 1:
            return _rebuild(layer, rebuild_selection(models, outcomes), context)
        return report_layer(layer, models, outcomes)


def _rebuild(layer: str, models: tuple[str, ...], context: Any) -> str:
    from kam_warehouse import dbt

    settings = run_context(context).settings
    log.info("dbt layer %s: rebuilding %s", layer, ", ".join(models))
    with lease.writing(context):
        result = dbt.build(settings, select=" ".join(models))
    return f"dbt layer {layer}: rebuilt {', '.join(models)}: {result.summary()}"
