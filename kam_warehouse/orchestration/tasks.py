"""Task bodies of the ingest and nightly DAGs. Each calls the pipeline step `kam run` calls.

Every body that writes the build warehouse runs inside `lease.writing(context)`: the one write lock, with
the run's lease for kam_nightly's tasks (claimed by `claim_night`, given back by `release_warehouse`).
"""

from __future__ import annotations

from typing import Any

from kam_warehouse.orchestration import lease
from kam_warehouse.orchestration.runtime import fail_fast, landing_day, log, run_context


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
    (rescheduled) and loads after that run published."""
    from kam_warehouse.pipeline import step_load

    day = landing_day(context)
    with fail_fast(), lease.writing(context, leased=False):
        outcome = step_load(run_context(context), sources=[source], through_day=day)
    return {"source": source, "through_day": day.isoformat(), "rows_loaded": outcome.record.rows_out,
            "summary": outcome.record.message}


def claim_night(context: Any) -> str:
    """kam_nightly's first task: claim the warehouse for the run, then decide whether there is a night.

    Skips the run (releasing the claim) when no loaded, unpublished day is complete for both sources;
    alerts when a source has stayed behind the other longer than `nightly.landing_wait_hours`."""
    from datetime import UTC, datetime

    from airflow.sdk.exceptions import AirflowSkipException

    from kam_warehouse.orchestration.config import load
    from kam_warehouse.orchestration.night import overdue_lags, read_plan
    from kam_warehouse.orchestration.notifications import alert

    settings = run_context(context).settings
    lease.acquire(context)
    try:
        with fail_fast():
            plan = read_plan(settings.build_db, settings.serving_db)
    except BaseException:
        lease.release(context)
        raise
    if plan.should_run:
        log.info("kam_nightly: %s", plan.describe())
        return plan.describe()
    lease.release(context)
    now = datetime.now(UTC).replace(tzinfo=None)
    for lag in overdue_lags(plan, now=now, grace=load().sensor_timeout):
        alert(lag.describe(), context)
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

    A failed model does not fail this task: its own task in the `dbt_models` group turns red with dbt's
    message, so the graph shows which model broke. A dbt crash (no node results) fails here.
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


def dbt_model(name: str, context: Any) -> str:
    """One model's task: report its outcome from the `dbt_build` task; when cleared by a person (a later
    try), build the model and its tests alone."""
    from kam_warehouse.orchestration.dbt_models import BUILD_TASK_ID, report_model

    ti = context["ti"]
    with fail_fast():
        if ti.try_number > 1:
            return _rebuild_model(name, context)
        return report_model(name, ti.xcom_pull(task_ids=BUILD_TASK_ID))


def _rebuild_model(name: str, context: Any) -> str:
    from kam_warehouse import dbt

    settings = run_context(context).settings
    with lease.writing(context):
        result = dbt.build(settings, select=name)
    return f"dbt model {name} rebuilt alone: {result.summary()}"
