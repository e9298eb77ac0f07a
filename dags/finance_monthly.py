"""Airflow DAG `finance_monthly`: month-end close + concentration report (wiring only)."""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, dag, task

from kam_warehouse.orchestration import monthly, tasks
from kam_warehouse.orchestration.config import load
from kam_warehouse.orchestration.defaults import WAREHOUSE_POOL, dag_kwargs

DOC = """
### finance_monthly
After month-end close (day `close.day_of_month` of config/pipeline.yml, 07:00 UTC, after the nightly):

0. `claim_warehouse` — the month due on the run's day; **skipped** (and with it the whole run) when no
   month is due. Otherwise takes the run lease on the build warehouse (waits while a night holds it).
1. `close_and_publish` — the step `kam close` runs: quality gate, then freezes the due month's
   concentration report into `finance.*`, then the audited publish, so readers see the frozen figures
   (the finance marts are views over `finance.*`).
2. `release_warehouse` — teardown: gives the lease back (also after a failure).
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
    @task(task_id="claim_warehouse", pool=WAREHOUSE_POOL)
    def claim_warehouse(**context) -> str:
        return monthly.claim_due_month(context)

    @task(task_id="close_and_publish", pool=WAREHOUSE_POOL)
    def close_and_publish(month: str, **context) -> str:
        return monthly.close_and_publish(month, context)

    @task(task_id="release_warehouse")
    def release_warehouse(**context) -> bool:
        return tasks.release_warehouse(context)

    @task(task_id="concentration_report")
    def concentration_report(month: str, **context) -> dict[str, str]:
        return monthly.concentration_report(month, context)

    month = claim_warehouse()
    published = close_and_publish(month)
    published >> release_warehouse().as_teardown(setups=month)
    published >> concentration_report(month)


finance_monthly()
