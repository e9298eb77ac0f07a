"""Airflow DAGs `ingest_billing` and `ingest_crm` (wiring only; logic in kam_warehouse.orchestration)."""

from __future__ import annotations

from airflow.sdk import CronDataIntervalTimetable, dag, task

from kam_warehouse.orchestration import tasks
from kam_warehouse.orchestration.assets import SOURCE_ASSETS, source_asset
from kam_warehouse.orchestration.config import load
from kam_warehouse.orchestration.defaults import (
    INGEST_MAX_ACTIVE_RUNS,
    LOAD_PRIORITY,
    WAREHOUSE_POOL,
    dag_kwargs,
)

DOC = """
### ingest_{source}
Loads the **{source}** landing zone into the build warehouse (`raw.{source}__*`).

* One run per extract day: the run's data interval start is the landing day `<landing>/{source}/<day>/`.
* `wait_for_landing` (reschedule-mode sensor) waits for the day's `_SUCCESS` marker (timeout:
  `nightly.landing_wait_hours` in config/pipeline.yml).
* `load_landing` loads **every** pending complete day up to that day in date order (catch-up), in the
  one-slot `kam_warehouse` pool, and emits the Asset `kam_raw_{source}` that schedules `kam_nightly`.
  It never loads during a night: while a night holds the warehouse it waits (rescheduled, no slot held).
  Loads go first in the pool (crm, then billing), so a landed day is loaded before a night claims.
  billing never loads a day crm has not loaded yet (its rows reference crm's accounts): it waits the
  same way, and fails naming the crm day after `nightly.max_runtime_minutes`.
* Up to {max_runs} runs at once, so a sensor waiting for a late day never blocks catch-up or backfill
  runs of earlier days (their loads still run one at a time, oldest logical date first).
* A rejected file fails the task at once (no retry): fix the file at the source and clear the task.
  Transient errors (busy warehouse, I/O) are retried with exponential backoff.
"""


def ingest_dag(source: str) -> None:
    cfg = load()

    @dag(
        dag_id=f"ingest_{source}",
        schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
        doc_md=DOC.format(source=source, max_runs=INGEST_MAX_ACTIVE_RUNS),
        **dag_kwargs(tags=("ingest", source), writes_warehouse=True, max_active_runs=INGEST_MAX_ACTIVE_RUNS),
    )
    def ingest() -> None:
        @task.sensor(task_id="wait_for_landing", mode="reschedule",
                     poke_interval=cfg.sensor_poke.total_seconds(), timeout=cfg.sensor_timeout.total_seconds())
        def wait_for_landing(**context) -> bool:
            return tasks.landing_complete(source, context)

        @task(task_id="load_landing", pool=WAREHOUSE_POOL, outlets=[source_asset(source)],
              priority_weight=LOAD_PRIORITY[source], weight_rule="absolute")
        def load_landing(**context) -> dict:
            return tasks.load_source(source, context)

        wait_for_landing() >> load_landing()

    ingest()


for _source in SOURCE_ASSETS:
    ingest_dag(_source)
