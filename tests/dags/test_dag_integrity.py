"""DagBag integrity: every DAG imports, is documented, owned, tagged, alerting, and serialises writers."""

from __future__ import annotations

import pytest

from kam_warehouse.orchestration.defaults import OWNER, WAREHOUSE_POOL
from kam_warehouse.orchestration.notifications import KamAlertNotifier

EXPECTED = {"ingest_billing", "ingest_crm", "kam_nightly", "kam_nightly_deadline", "finance_monthly",
            "warehouse_maintenance"}
#: DAGs that write the build warehouse, and their tasks that must hold the one-slot pool
WRITERS = {
    "ingest_billing": {"load_landing"},
    "ingest_crm": {"load_landing"},
    "kam_nightly": {"dbt_build", "dbt_models.fct_account_revenue_monthly", "quality_gate", "reclassify_tiers",
                    "publish"},
    "finance_monthly": {"close_month", "publish_closed_figures"},
    "warehouse_maintenance": {"prune_builds", "checkpoint_build_warehouse"},
}


def test_no_import_errors(dagbag) -> None:
    """Every file in dags/ parses, and the expected DAGs are all there."""
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) >= EXPECTED


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_dag_is_documented_owned_tagged(dagbag, dag_id: str) -> None:
    """Each DAG has doc_md, the kam tag and our owner on every task."""
    dag = dagbag.dags[dag_id]
    assert dag.doc_md and dag_id in dag.doc_md
    assert "kam" in dag.tags
    assert {t.owner for t in dag.tasks} == {OWNER}


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_retries_and_failure_alerts(dagbag, dag_id: str) -> None:
    """Every task retries (with backoff) and every task and DAG alerts through our notifier on failure."""
    dag = dagbag.dags[dag_id]
    assert any(isinstance(cb, KamAlertNotifier) for cb in dag.on_failure_callback)
    for t in dag.tasks:
        assert t.retries >= 1, t.task_id
        assert t.retry_exponential_backoff, t.task_id
        assert any(isinstance(cb, KamAlertNotifier) for cb in t.on_failure_callback), t.task_id


@pytest.mark.parametrize(("dag_id", "writer_tasks"), sorted(WRITERS.items()))
def test_warehouse_writers_are_serialised(dagbag, dag_id: str, writer_tasks: set[str]) -> None:
    """Warehouse-writing DAGs run one at a time and their writing tasks share the one-slot pool."""
    dag = dagbag.dags[dag_id]
    assert dag.max_active_runs == 1
    pools = {t.task_id: t.pool for t in dag.tasks}
    for task_id in writer_tasks:
        assert pools[task_id] == WAREHOUSE_POOL, task_id


def test_nightly_is_scheduled_on_both_sources_and_has_a_deadline(dagbag) -> None:
    """kam_nightly waits for both source Assets, has a run timeout, runs every dbt model task before the
    gate, and shows one task per dbt model wired in dbt's lineage."""
    dag = dagbag.dags["kam_nightly"]
    names = {asset.name for asset in dag.timetable.asset_condition.objects}
    assert names == {"kam_raw_billing", "kam_raw_crm"}
    assert dag.dagrun_timeout is not None
    model_tasks = {t.task_id for t in dag.tasks if t.task_id.startswith("dbt_models.")}
    assert {"dbt_models.fct_account_revenue_monthly", "dbt_models.mart_revenue_concentration_monthly",
            "dbt_models.mart_account_tier_scores"} <= model_tasks
    assert "dbt_models.int_account_revenue_monthly" in dag.get_task(
        "dbt_models.fct_account_revenue_monthly").upstream_task_ids
    assert dag.get_task("dbt_models.stg_crm__accounts").upstream_task_ids == {"dbt_build"}
    gate = dag.get_task("quality_gate")
    assert gate.upstream_task_ids and gate.upstream_task_ids <= model_tasks
    assert dag.get_task("publish").upstream_task_ids == {"reclassify_tiers"}


def test_ingest_emits_its_source_asset(dagbag) -> None:
    """Each ingest DAG's load task emits the Asset of its own source, after a reschedule-mode sensor."""
    for source in ("billing", "crm"):
        dag = dagbag.dags[f"ingest_{source}"]
        load = dag.get_task("load_landing")
        assert [a.name for a in load.outlets] == [f"kam_raw_{source}"]
        sensor = dag.get_task("wait_for_landing")
        assert sensor.mode == "reschedule" and sensor.timeout > 0
