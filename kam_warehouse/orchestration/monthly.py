"""Task bodies of finance_monthly: freeze the closed month's figures, then write the finance report."""

from __future__ import annotations

from datetime import date
from typing import Any

from kam_warehouse.orchestration.runtime import fail_fast, run_context

REPORT_FORMATS: frozenset[str] = frozenset({"xlsx", "html", "csv"})
#: the dbt models that show the frozen figures and restatements
FINANCE_MODELS = "path:models/marts/finance"


def close_due_month(context: Any) -> str:
    """Close the month due on the run's logical date (skip the run when none is due)."""
    from airflow.sdk.exceptions import AirflowSkipException

    from kam_warehouse.config import load_yaml
    from kam_warehouse.serving import close_month, due_close_month

    ctx = run_context(context)
    today: date = (context.get("logical_date") or context["data_interval_end"]).date()
    with fail_fast():
        month = due_close_month(today, load_yaml(ctx.settings.config_dir, "pipeline.yml"))
        if month is None:
            raise AirflowSkipException(f"no month is due for close on {today}")
        close_month(ctx.settings, month, run_id=ctx.run_id)
    return month.isoformat()


def publish_closed_figures(context: Any) -> str | None:
    """Rebuild the finance marts, re-check the warehouse and publish, so readers see the frozen figures.

    The gate runs again first: if the latest nightly was held back, the build warehouse holds unchecked
    data, and nothing may reach readers without passing the gate.
    """
    from kam_warehouse.pipeline import step_dbt_build, step_publish, step_quality_gate

    ctx = run_context(context)
    with fail_fast():
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
