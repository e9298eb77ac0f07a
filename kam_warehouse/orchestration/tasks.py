"""Task bodies of the ingest and nightly DAGs. Each calls the pipeline step `kam run` calls."""

from __future__ import annotations

from typing import Any

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
    """Load every pending complete day of `source` up to the run's landing day, in date order."""
    from kam_warehouse.pipeline import step_load

    day = landing_day(context)
    with fail_fast():
        outcome = step_load(run_context(context), sources=[source], through_day=day)
    return {"source": source, "through_day": day.isoformat(), "rows_loaded": outcome.record.rows_out,
            "summary": outcome.record.message}


def quality_gate(context: Any) -> str | None:
    """Run the gate; a blocking failure fails the task (no retry) with a message naming the checks."""
    from kam_warehouse.pipeline import step_quality_gate

    with fail_fast():
        return step_quality_gate(run_context(context)).record.message


def reclassify_tiers(context: Any) -> str | None:
    from kam_warehouse.pipeline import step_tiers

    with fail_fast():
        return step_tiers(run_context(context)).record.message


def publish(context: Any) -> str | None:
    from kam_warehouse.pipeline import step_publish

    with fail_fast():
        return step_publish(run_context(context)).record.message


def dbt_build(context: Any) -> dict[str, dict[str, str]]:
    """The one `dbt build` (the step `kam run` runs). Returns every model's outcome for its model task.

    A failed model does not fail this task: its own task in the `dbt_models` group turns red with dbt's
    message, so the graph shows which model broke. A dbt crash (no node results) fails here.
    """
    from kam_warehouse.dbt import DbtFailed
    from kam_warehouse.orchestration.dbt_models import model_outcomes
    from kam_warehouse.pipeline import step_dbt_build

    with fail_fast():
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
    from kam_warehouse.locking import warehouse_lock

    settings = run_context(context).settings
    with warehouse_lock(settings.lock_file):
        result = dbt.build(settings, select=name)
    return f"dbt model {name} rebuilt alone: {result.summary()}"
