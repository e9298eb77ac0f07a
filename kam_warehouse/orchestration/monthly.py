"""Task bodies of finance_monthly: decide the due month and claim the warehouse, freeze the closed
month's figures, publish them through the gate, then write the finance report."""

from __future__ import annotations

from datetime import date
from typing import Any

from kam_warehouse.orchestration import lease
from kam_warehouse.orchestration.runtime import fail_fast, log, run_context

REPORT_FORMATS: frozenset[str] = frozenset({"xlsx", "html", "csv"})
#: the dbt models that show the frozen figures and restatements
FINANCE_MODELS = "path:models/marts/finance"


def run_day(context: Any) -> date:
    """The day the run stands for: its logical date (the cron time of a scheduled run)."""
    return (context.get("logical_date") or context["data_interval_end"]).date()


def claim_due_month(context: Any) -> str:
    """First task: the month due for close on the run's day, with the warehouse claimed for the run.

    No month due (a run before `close.day_of_month`): the task and so the run's tasks are **skipped**
    (not failed) and the warehouse is not touched."""
    from airflow.sdk.exceptions import AirflowSkipException

    from kam_warehouse.core.configuration import load_pipeline
    from kam_warehouse.serving import due_close_month

    settings = run_context(context).settings
    today = run_day(context)
    with fail_fast():
        month = due_close_month(today, load_pipeline(settings.config_dir).close.day_of_month)
    if month is None:
        raise AirflowSkipException(f"no month is due for close on {today} (close.day_of_month in pipeline.yml)")
    lease.acquire(context)
    log.info("finance_monthly: closing %s", month.strftime("%Y-%m"))
    return month.isoformat()


def close_due_month(month: str, context: Any) -> str:
    """Freeze `month`'s concentration figures (closing a closed month again is a recorded no-op)."""
    from kam_warehouse.serving import close_month

    ctx = run_context(context)
    with fail_fast(), lease.writing(context):
        result = close_month(ctx.settings, date.fromisoformat(month), run_id=ctx.run_id)
    log.info("%s", result.message)
    return result.message


def publish_closed_figures(context: Any) -> str | None:
    """Rebuild the finance marts, re-check the warehouse and publish, so readers see the frozen figures.

    The gate runs again first: if the latest nightly was held back, the build warehouse holds unchecked
    data, and nothing may reach readers without passing the gate.
    """
    from kam_warehouse.pipeline import step_dbt_build, step_publish, step_quality_gate

    ctx = run_context(context)
    with fail_fast(), lease.writing(context):
        step_dbt_build(ctx, select=FINANCE_MODELS)
        step_quality_gate(ctx)
        return step_publish(ctx).record.message


def concentration_report(month: str, context: Any) -> dict[str, str]:
    """Write the month's concentration report (read from the serving warehouse) under reports_dir."""
    from kam_warehouse.serving import report

    settings = run_context(context).settings
    with fail_fast():
        written = report.concentration_report(settings.serving_db, date.fromisoformat(month),
                                              settings.reports_dir, REPORT_FORMATS)
    return {fmt: str(path) for fmt, path in written.items()}
