"""Airflow DAG `kam_nightly`: dbt build -> quality gate -> tiers -> publish (wiring only)."""

from __future__ import annotations

from airflow.sdk import TaskGroup, dag, task

from kam_warehouse.orchestration import tasks
from kam_warehouse.orchestration.assets import SERVING_ASSET, SOURCE_ASSETS
from kam_warehouse.orchestration.config import load
from kam_warehouse.orchestration.dbt_models import BUILD_TASK_ID, GROUP_ID, task_layers
from kam_warehouse.orchestration.defaults import WAREHOUSE_POOL, dag_kwargs

DOC = """
### kam_nightly
Builds, checks and publishes the warehouse whenever a source was loaded (Asset `kam_raw_billing` **or**
`kam_raw_crm`) and some loaded day not yet published is complete for both sources. The same steps as
`kam run`, recorded in `ops.pipeline_runs` under this run's id. **A night is one writer**: from its
claim to its publish nothing else writes the build warehouse (no ingest load, no other DAG, no `kam`
command), so the published `ops.*` describe exactly the data the published marts were built from.

0. `claim_warehouse` — takes the run lease on the warehouse (waits, rescheduled, while another writer
   holds it), then **skips** the run when there is nothing complete to publish, alerting when one
   source has stayed behind the other (naming the source and the days).
1. `dbt_build` — one `dbt build` (models, seeds, data tests, unit tests), as in `kam run`.
2. `dbt_models.<layer>` — one task per dbt layer (seeds, staging, intermediate, marts, ops), in their
   lineage: its log has one line per model; green when every model and its tests passed, red naming each
   failed model with dbt's message. **Clear a failed layer's task (downstream included) to re-run its
   failed and skipped models** (one `dbt build --select ...`), then the layers below, the gate, tiers and
   publish.
3. `quality_gate` — the dbt tests' results and the Great Expectations checks (it runs also when a model task is
   red, so a failed dbt test is judged and recorded); a failed **block** check fails the run here, naming the
   checks; tiers and publish are held back (rows `held_back`) and the serving warehouse is unchanged.
4. `reclassify_tiers` — nightly tier reclassification (hysteresis, overrides, history).
5. `publish` — atomically replaces `serving.duckdb`; emits the Asset `kam_serving`.
6. `release_warehouse` — teardown: gives the lease back (also after a failed task).

Every task that writes the warehouse runs in the one-slot pool `kam_warehouse` and holds the write lock
with the run's lease; the layer tasks only report unless cleared, when they rebuild under
the same lock and lease. The DAG has `max_active_runs=1`. A run still unfinished after `nightly.max_runtime_minutes` times out and
alerts (failure notifiers); `kam_nightly_deadline` alerts when the publish has not happened by
`nightly.deadline_utc`. Failures of person-fixable kind (gate block, failed model) are not retried.
"""

cfg = load()
dbt_layers = task_layers()


@dag(
    dag_id="kam_nightly",
    schedule=SOURCE_ASSETS["billing"] | SOURCE_ASSETS["crm"],
    doc_md=DOC,
    dagrun_timeout=cfg.max_runtime,
    **dag_kwargs(tags=("nightly", "dbt"), writes_warehouse=True),
)
def kam_nightly() -> None:
    @task(task_id="claim_warehouse", pool=WAREHOUSE_POOL)
    def claim_warehouse(**context) -> str:
        return tasks.claim_night(context)

    @task(task_id="release_warehouse")
    def release_warehouse(**context) -> bool:
        return tasks.release_warehouse(context)

    @task(task_id=BUILD_TASK_ID, pool=WAREHOUSE_POOL)
    def dbt_build(**context) -> dict[str, dict[str, str]]:
        return tasks.dbt_build(context)

    @task  # reports the build's outcome (no write); a cleared one rebuilds under the write lock + lease
    def dbt_layer(layer: str, **context) -> str:
        return tasks.dbt_layer(layer, context)

    # none_skipped: a red model task (its dbt tests failed) must still reach the gate, which blocks and
    # records the verdict in ops.dq_results; a skipped night (nothing to publish) skips the gate too
    @task(task_id="quality_gate", pool=WAREHOUSE_POOL, trigger_rule="none_skipped")
    def quality_gate(**context) -> str | None:
        return tasks.quality_gate(context)

    @task(task_id="reclassify_tiers", pool=WAREHOUSE_POOL)
    def reclassify_tiers(**context) -> str | None:
        return tasks.reclassify_tiers(context)

    @task(task_id="publish", pool=WAREHOUSE_POOL, outlets=[SERVING_ASSET])
    def publish(**context) -> str | None:
        return tasks.publish(context)

    claim = claim_warehouse()
    build = dbt_build()
    claim >> build
    with TaskGroup(GROUP_ID, tooltip="one task per dbt layer; clear one to re-run its failed models") as models:
        by_name = {x.name: dbt_layer.override(task_id=x.name)(x.name) for x in dbt_layers}
        for layer in dbt_layers:
            for upstream in layer.upstream:
                by_name[upstream] >> by_name[layer.name]
    build >> models >> quality_gate() >> reclassify_tiers() >> publish() >> release_warehouse().as_teardown(
        setups=claim)


kam_nightly()
