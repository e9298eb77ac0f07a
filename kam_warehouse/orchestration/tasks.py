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


def dbt_build_all(context: Any) -> str | None:
    """The whole dbt build in one task (fallback when no manifest was built for cosmos)."""
    from kam_warehouse.pipeline import step_dbt_build

    with fail_fast():
        return step_dbt_build(run_context(context)).record.message
