"""Airflow DAG `finance_monthly`: month-end close + concentration report (wiring only)."""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, dag, task

from kam_warehouse.orchestration import monthly
from kam_warehouse.orchestration.config import load
from kam_warehouse.orchestration.defaults import WAREHOUSE_POOL, dag_kwargs

DOC = """
### finance_monthly
After month-end close (day `close.day_of_month` of config/pipeline.yml, 07:00 UTC, after the nightly):

1. `close_month` — freezes the previous month's concentration figures into `finance.*` (skipped when
   no month is due); in the `kam_warehouse` pool.
2. `publish_closed_figures` — rebuilds the finance marts (`mart_finance_concentration_closed`,
   `..._restatements`), re-runs the quality gate and publishes, so readers see the frozen figures.
3. `concentration_report` — writes the finance report (xlsx, html, csv) under `<warehouse>/reports/`
   from the serving warehouse.
"""


@dag(
    dag_id="finance_monthly",
    schedule=CronTriggerTimetable(f"0 7 {load().close_day_of_month} * *", timezone="UTC"),
    doc_md=DOC,
    **dag_kwargs(tags=("finance", "monthly"), writes_warehouse=True),
)
def finance_monthly() -> None:
    @task(task_id="close_month", pool=WAREHOUSE_POOL)
    def close_month(**context) -> str:
        return monthly.close_due_month(context)

    @task(task_id="publish_closed_figures", pool=WAREHOUSE_POOL)
    def publish_closed_figures(**context) -> str | None:
        return monthly.publish_closed_figures(context)

    @task(task_id="concentration_report")
    def concentration_report(month: str, **context) -> dict[str, str]:
        return monthly.concentration_report(month, context)

    month = close_month()
    published = publish_closed_figures()
    month >> published
    published >> concentration_report(month)


finance_monthly()
