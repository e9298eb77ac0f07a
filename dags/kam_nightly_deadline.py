"""Airflow DAG `kam_nightly_deadline`: alert when the nightly publish missed `nightly.deadline_utc`."""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, dag, task

from kam_warehouse.orchestration import deadline
from kam_warehouse.orchestration.config import load
from kam_warehouse.orchestration.defaults import dag_kwargs

DOC = """
### kam_nightly_deadline
Runs daily at `nightly.deadline_utc` (config/pipeline.yml) and **fails** — which sends the failure
alerts (log; e-mail via connection `kam_smtp`, Slack via `kam_slack`) — unless the serving warehouse
shows the previous day as published for every source; the alert names each late source and day.
Read-only: it reads `serving.duckdb`, never the build warehouse.
"""


@dag(
    dag_id="kam_nightly_deadline",
    schedule=CronTriggerTimetable(deadline.cron_for(load().deadline_utc), timezone="UTC"),
    doc_md=DOC,
    **dag_kwargs(tags=("nightly", "alerting"), writes_warehouse=False),
)
def kam_nightly_deadline() -> None:
    @task(task_id="check_nightly_published")
    def check_nightly_published(**context) -> dict[str, str]:
        return deadline.check_task(context)

    check_nightly_published()


kam_nightly_deadline()
