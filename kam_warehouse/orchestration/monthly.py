"""Task bodies of finance_monthly: decide the due month and claim the warehouse, close and publish it
(the same step as `kam close`), then write the finance report."""

from __future__ import annotations

from datetime import date
from typing import Any

from kam_warehouse.orchestration import lease
from kam_warehouse.orchestration.runtime import fail_fast, log, run_context

REPORT_FORMATS: frozenset[str] = frozenset({"xlsx", "html", "csv"})


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


def closed_by(context: Any) -> str:
    """Who closes, as the close records it (report status line, mart_finance_close_versions): the DAG and,
    for a manual run, the user who triggered it; a scheduled run says so. The worker's OS user (what
    `kam close` records) would only say "airflow"."""
    dag_run = context["dag_run"]
    user = getattr(dag_run, "triggering_user_name", None)
    how = f"triggered by {user}" if user else str(getattr(dag_run, "run_type", None) or "scheduled")
    return f"Airflow {dag_run.dag_id} ({how})"


def close_and_publish(month: str, context: Any) -> str:
    """The step `kam close` runs (kam_warehouse.serving.close.close_and_publish): quality gate -> freeze
    `month` -> the audited publish, under this run's lease. Closing a closed month again is a no-op."""
    from kam_warehouse.serving.close import close_and_publish as close_step

    ctx = run_context(context)
    with fail_fast(), lease.writing(context):
        done = close_step(ctx.settings, date.fromisoformat(month), run_id=ctx.run_id,
                          triggered_by=ctx.triggered_by, closed_by=closed_by(context))
    log.info("%s", done.close.message)
    return done.close.message


def concentration_report(month: str, context: Any) -> dict[str, str]:
    """Write the month's concentration report (read from the serving warehouse) under reports_dir."""
    from kam_warehouse.serving import report

    settings = run_context(context).settings
    with fail_fast():
        written = report.concentration_report(settings.serving, date.fromisoformat(month),
                                              settings.reports_dir, REPORT_FORMATS)
    return {fmt: str(path) for fmt, path in written.items()}
