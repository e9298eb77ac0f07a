"""DagBag integrity: every DAG imports, is documented, owned, tagged, alerting, and serialises writers;
every callable the DAG files reference exists."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

from kam_warehouse.orchestration.defaults import INGEST_MAX_ACTIVE_RUNS, OWNER, WAREHOUSE_POOL
from kam_warehouse.orchestration.notifications import KamAlertNotifier

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
EXPECTED = {"ingest_billing", "ingest_crm", "kam_nightly", "kam_nightly_deadline", "finance_monthly",
            "warehouse_maintenance"}
#: DAGs that write the build warehouse, and their tasks that must hold the one-slot pool
WRITERS = {
    "ingest_billing": {"load_landing"},
    "ingest_crm": {"load_landing"},
    "kam_nightly": {"claim_warehouse", "dbt_build", "quality_gate", "reclassify_tiers", "publish"},
    "finance_monthly": {"claim_warehouse", "close_and_publish"},
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
    """Warehouse-writing DAGs run one at a time (ingest: several may wait, loads share the pool) and their
    writing tasks share the one-slot pool."""
    dag = dagbag.dags[dag_id]
    assert dag.max_active_runs == (INGEST_MAX_ACTIVE_RUNS if dag_id.startswith("ingest_") else 1)
    pools = {t.task_id: t.pool for t in dag.tasks}
    for task_id in writer_tasks:
        assert pools[task_id] == WAREHOUSE_POOL, task_id


@pytest.mark.parametrize("dag_id", ["kam_nightly", "finance_monthly"])
def test_writing_runs_claim_first_and_release_in_a_teardown(dagbag, dag_id: str) -> None:
    """A writing run's first task claims the warehouse (setup) and a teardown gives it back, so a failed
    task cannot keep the lease and the run's state still comes from its real tasks."""
    dag = dagbag.dags[dag_id]
    claim, release = dag.get_task("claim_warehouse"), dag.get_task("release_warehouse")
    assert claim.is_setup and not claim.upstream_task_ids
    assert release.is_teardown and "claim_warehouse" in release.upstream_task_ids
    writers = {t.task_id for t in dag.tasks if t.pool == WAREHOUSE_POOL} - {"claim_warehouse"}
    assert writers and all("claim_warehouse" in dag.get_task(t).get_flat_relative_ids(upstream=True)
                           for t in writers)
    assert all(t in release.get_flat_relative_ids(upstream=True) for t in writers)


def test_nightly_is_scheduled_on_either_source_and_has_a_deadline(dagbag) -> None:
    """kam_nightly runs when either source Asset is updated (a source re-loaded alone still triggers it),
    has a run timeout, runs every dbt layer task before the gate, and shows one task per dbt layer wired
    in the layers' lineage (a handful of tasks, not one per model: each task costs a start-up)."""
    dag = dagbag.dags["kam_nightly"]
    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny"
    names = {asset.name for asset in condition.objects}
    assert names == {"kam_raw_billing", "kam_raw_crm"}
    assert dag.dagrun_timeout is not None
    model_tasks = {t.task_id for t in dag.tasks if t.task_id.startswith("dbt_models.")}
    assert model_tasks == {f"dbt_models.{layer}" for layer in ("seeds", "staging", "intermediate", "marts", "ops")}
    assert "dbt_models.intermediate" in dag.get_task("dbt_models.marts").upstream_task_ids
    assert dag.get_task("dbt_models.staging").upstream_task_ids == {"dbt_build"}
    assert len(dag.tasks) <= 12
    assert dag.get_task("dbt_build").upstream_task_ids == {"claim_warehouse"}
    gate = dag.get_task("quality_gate")
    assert gate.upstream_task_ids and gate.upstream_task_ids <= model_tasks
    # a failed dbt test turns its model task red: the gate must still run to block and record it, but a
    # night skipped by claim_warehouse (nothing to publish) must skip it
    assert gate.trigger_rule == "none_skipped"
    assert dag.get_task("publish").upstream_task_ids == {"reclassify_tiers"}


def test_ingest_emits_its_source_asset(dagbag) -> None:
    """Each ingest DAG's load task emits the Asset of its own source, after a reschedule-mode sensor."""
    for source in ("billing", "crm"):
        dag = dagbag.dags[f"ingest_{source}"]
        load = dag.get_task("load_landing")
        assert [a.name for a in load.outlets] == [f"kam_raw_{source}"]
        sensor = dag.get_task("wait_for_landing")
        assert sensor.mode == "reschedule" and sensor.timeout > 0


def test_loads_go_first_in_the_pool_crm_before_billing(dagbag) -> None:
    """With both loads and a night's claim waiting for the one pool slot, the loads go first (a landed day
    is loaded before a night claims, instead of waiting that night out), crm before billing (billing rows
    reference crm's accounts: ingest.load.SOURCE_ORDER)."""
    from ingest.load import SOURCE_ORDER

    loads = {s: dagbag.dags[f"ingest_{s}"].get_task("load_landing") for s in SOURCE_ORDER}
    assert all(t.weight_rule == "absolute" for t in loads.values())
    weights = [loads[s].priority_weight for s in SOURCE_ORDER]
    assert weights == sorted(weights, reverse=True) and len(set(weights)) == len(weights)
    nightly = dagbag.dags["kam_nightly"]  # weight_rule downstream: a task's weight <= the sum of every task's
    assert min(weights) > sum(t.priority_weight for t in nightly.tasks)


def _module_references(path) -> list[tuple[str, str, int]]:
    """(module, attribute, line) for every `alias.name` in a DAG file where alias is an imported module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kam_warehouse"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if _is_module(full):
                    modules[alias.asname or alias.name] = full
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("kam_warehouse"):
                    modules[alias.asname or alias.name] = alias.name
    return [(modules[n.value.id], n.attr, n.lineno) for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in modules]


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.parametrize("dag_file", sorted(p.name for p in DAGS_DIR.glob("*.py")))
def test_every_referenced_callable_exists(dag_file: str) -> None:
    """Each `module.function` a DAG file calls exists (a task calling a removed function — e.g. the
    deadline check that crashed every day — fails here, not in production at 06:00)."""
    refs = _module_references(DAGS_DIR / dag_file)
    missing = [f"{dag_file}:{line}: {mod}.{attr}" for mod, attr, line in refs
               if not hasattr(importlib.import_module(mod), attr)]
    assert missing == []
    called = [(mod, attr) for mod, attr, _ in refs if callable(getattr(importlib.import_module(mod), attr))]
    assert called or dag_file == "__init__.py"


def test_callable_check_catches_a_missing_function(tmp_path) -> None:
    """The reference check above really fails on a call to a function that does not exist."""
    bad = tmp_path / "bad_dag.py"
    bad.write_text("from kam_warehouse.orchestration import deadline\n\n"
                   "def body(context):\n    return deadline.check_task_gone(context)\n")
    refs = _module_references(bad)
    assert refs == [("kam_warehouse.orchestration.deadline", "check_task_gone", 4)]
    assert not hasattr(importlib.import_module(refs[0][0]), refs[0][1])
