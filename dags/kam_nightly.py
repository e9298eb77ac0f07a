"""Airflow DAG `kam_nightly`: dbt build -> quality gate -> tiers -> publish (wiring only)."""

from __future__ import annotations

from airflow.sdk import dag, task

from kam_warehouse.orchestration import dbt_runlog, tasks
from kam_warehouse.orchestration.assets import SERVING_ASSET, SOURCE_ASSETS
from kam_warehouse.orchestration.config import load
from kam_warehouse.orchestration.dbt_group import dbt_task_group, manifest_available
from kam_warehouse.orchestration.deadline import nightly_deadline_alert
from kam_warehouse.orchestration.defaults import WAREHOUSE_POOL, dag_kwargs, default_args
from kam_warehouse.orchestration.notifications import failure_callbacks
from kam_warehouse.settings import Settings

DOC = """
### kam_nightly
Builds, checks and publishes the warehouse once **both** sources were loaded (Assets `kam_raw_billing`
and `kam_raw_crm`). The same steps as `kam run`, recorded in `ops.pipeline_runs` under this run's id.

1. `dbt_build` — one task per dbt model (astronomer-cosmos, model + its tests); tier-dependent marts
   are views over the tier state. Bracketed by `dbt_build_start` / `dbt_build_done`,
   which write the `dbt_build` row.
2. `quality_gate` — Great Expectations suites; a failed **block** check fails the run here, naming the
   checks; tiers and publish are held back (rows `held_back`) and the serving warehouse is unchanged.
3. `reclassify_tiers` — nightly tier reclassification (hysteresis, overrides, history).
4. `publish` — atomically replaces `serving.duckdb`; emits the Asset `kam_serving`.

Every task that writes the warehouse runs in the one-slot pool `kam_warehouse`. A DeadlineAlert fires
when a run is not finished `nightly.max_runtime_minutes` after it was queued; `kam_nightly_deadline`
checks the publish against `nightly.deadline_utc`.
"""

cfg = load()


@dag(
    dag_id="kam_nightly",
    schedule=SOURCE_ASSETS["billing"] & SOURCE_ASSETS["crm"],
    doc_md=DOC,
    deadline=nightly_deadline_alert(cfg.max_runtime),
    **dag_kwargs(tags=("nightly", "dbt"), writes_warehouse=True),
)
def kam_nightly() -> None:
    if manifest_available():
        @task(task_id="dbt_build_start", pool=WAREHOUSE_POOL)
        def dbt_build_start(**context) -> None:
            dbt_runlog.build_started(context)

        group = dbt_task_group(
            "dbt_build", settings=Settings.from_env(),
            default_args=default_args(on_failure_callback=[*failure_callbacks(), dbt_runlog.model_failed]),
        )
        model_tasks = len(group.children)

        @task(task_id="dbt_build_done", pool=WAREHOUSE_POOL)
        def dbt_build_done(**context) -> str:
            return dbt_runlog.build_finished(context, nodes=model_tasks)

        dbt_done = dbt_build_done()
        dbt_build_start() >> group >> dbt_done
    else:  # no manifest (run `make manifest`): the whole dbt build as one task
        @task(task_id="dbt_build", pool=WAREHOUSE_POOL)
        def dbt_build(**context) -> str | None:
            return tasks.dbt_build_all(context)

        dbt_done = dbt_build()

    @task(task_id="quality_gate", pool=WAREHOUSE_POOL)
    def quality_gate(**context) -> str | None:
        return tasks.quality_gate(context)

    @task(task_id="reclassify_tiers", pool=WAREHOUSE_POOL)
    def reclassify_tiers(**context) -> str | None:
        return tasks.reclassify_tiers(context)

    @task(task_id="publish", pool=WAREHOUSE_POOL, outlets=[SERVING_ASSET])
    def publish(**context) -> str | None:
        return tasks.publish(context)

    dbt_done >> quality_gate() >> reclassify_tiers() >> publish()


kam_nightly()
