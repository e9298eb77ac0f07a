"""Airflow DAG `warehouse_maintenance`: prune old builds and logs, checkpoint DuckDB (wiring only)."""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, dag, task

from kam_warehouse.orchestration import maintenance
from kam_warehouse.orchestration.defaults import WAREHOUSE_POOL, dag_kwargs

DOC = """
### warehouse_maintenance
Weekly (Sunday 03:00 UTC, outside the nightly window):

* `prune_builds` — keeps the newest `publish.keep_builds` published builds (never the served one).
* `checkpoint_build_warehouse` — `FORCE CHECKPOINT` of `build.duckdb` (WAL merged, free blocks reclaimed).
* `prune_airflow_logs` — deletes task logs older than `maintenance.keep_airflow_logs_days`.

The first two touch the warehouse and run in the `kam_warehouse` pool.
"""


@dag(
    dag_id="warehouse_maintenance",
    schedule=CronTriggerTimetable("0 3 * * 0", timezone="UTC"),
    doc_md=DOC,
    **dag_kwargs(tags=("maintenance",), writes_warehouse=True),
)
def warehouse_maintenance() -> None:
    @task(task_id="prune_builds", pool=WAREHOUSE_POOL)
    def prune_builds(**context) -> list[str]:
        return maintenance.prune_builds(context)

    @task(task_id="checkpoint_build_warehouse", pool=WAREHOUSE_POOL)
    def checkpoint_build_warehouse(**context) -> dict[str, int]:
        return maintenance.checkpoint_build_warehouse(context)

    @task(task_id="prune_airflow_logs")
    def prune_airflow_logs(**context) -> int:
        return maintenance.prune_airflow_logs(context)

    prune_builds() >> checkpoint_build_warehouse()
    prune_airflow_logs()


warehouse_maintenance()
