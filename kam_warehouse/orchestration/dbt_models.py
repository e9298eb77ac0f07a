"""dbt inside Airflow: one `dbt build` for speed, one Airflow task per dbt model for visibility.

The `dbt_build` task runs the same `kam_warehouse.pipeline.step_dbt_build` as `kam run` (one in-process
dbt invocation, dbt's own DAG ordering and threads) and returns every model's outcome — the model plus
its data tests and unit tests — as its XCom. Each model then has its own task in the `dbt_models` group,
wired in dbt's lineage, that turns its outcome into a green or red task with dbt's message. Clearing a
failed model task re-runs that model alone (`dbt build --select <model>`: model + its tests).

Why not astronomer-cosmos (measured on this project, 2 cores, 80-account demo): `ExecutionMode.LOCAL`
costs ~1.4 s of dbt start-up per model task; `ExecutionMode.WATCHER` took 38 s for the producer's
`dbt build` that `kam run` does in ~10 s, its sensors wait forever when tasks run serially (`airflow
dags test`, `dag.test()`), its in-process dbt-duckdb handle stays open for the next task, and importing
cosmos made `kam_nightly` take 2.0 s to parse. This module needs only `json` at parse time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from kam_warehouse.dbt import MANIFEST_PATH
from kam_warehouse.errors import KamError

#: dbt resource types that get a task of their own
TASK_RESOURCES = ("model", "seed")
#: the producer task's id (the one dbt build)
BUILD_TASK_ID = "dbt_build"
GROUP_ID = "dbt_models"
FAILED = frozenset({"error", "fail", "runtime error"})


@dataclass(frozen=True)
class DbtNode:
    unique_id: str
    name: str
    resource_type: str
    #: unique ids of the task nodes this one selects from (its upstream tasks)
    upstream: tuple[str, ...]


@cache
def _manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise KamError(f"dbt manifest {path} is missing: run `make manifest` (dbt parse) before loading the DAGs")
    return json.loads(path.read_text(encoding="utf-8"))


def task_nodes(path: Path | None = None) -> list[DbtNode]:
    """The project's models and seeds with their lineage, read from the manifest (parse-time safe)."""
    manifest = _manifest(path or MANIFEST_PATH)
    project = manifest["metadata"]["project_name"]
    selected = {
        uid: node for uid, node in manifest["nodes"].items()
        if node["resource_type"] in TASK_RESOURCES and node["package_name"] == project
    }
    return [
        DbtNode(uid, node["name"], node["resource_type"],
                tuple(sorted(d for d in node.get("depends_on", {}).get("nodes", []) if d in selected)))
        for uid, node in sorted(selected.items())
    ]


def _owner_of_tests(manifest: dict[str, Any], task_ids: set[str]) -> dict[str, list[str]]:
    """Test / unit-test unique id -> the model task(s) it belongs to.

    Generic tests name their model (`attached_node`); unit tests test one model; a singular test belongs
    to the most downstream of the models it reads (e.g. the reconciliation test to the fact table).
    """
    parents: dict[str, list[str]] = manifest.get("parent_map", {})

    def ancestors(uid: str, seen: set[str]) -> set[str]:
        for p in parents.get(uid, []):
            if p not in seen:
                seen.add(p)
                ancestors(p, seen)
        return seen

    owners: dict[str, list[str]] = {}
    tests = {**manifest["nodes"], **manifest.get("unit_tests", {})}
    for uid, node in tests.items():
        if node["resource_type"] not in ("test", "unit_test"):
            continue
        attached = node.get("attached_node")
        deps = [d for d in node.get("depends_on", {}).get("nodes", []) if d in task_ids]
        if attached in task_ids:
            owners[uid] = [attached]
        elif deps:
            upstream_of_others = set().union(*(ancestors(d, set()) for d in deps))
            owners[uid] = [d for d in deps if d not in upstream_of_others] or deps
    return owners


def model_outcomes(result: Any, path: Path | None = None) -> dict[str, dict[str, str]]:
    """Per task node name: {"status": success | failed | skipped | not_run, "message": ...}.

    `result` is a kam_warehouse.dbt.DbtResult. A model is failed when it or any of its tests failed.
    """
    manifest = _manifest(path or MANIFEST_PATH)
    nodes = {n.unique_id: n for n in task_nodes(path)}
    owners = _owner_of_tests(manifest, set(nodes))
    outcomes = {n.name: {"status": "not_run", "message": ""} for n in nodes.values()}
    problems: dict[str, list[str]] = {name: [] for name in outcomes}
    for node in result.nodes:
        targets = [node.unique_id] if node.unique_id in nodes else owners.get(node.unique_id, [])
        for uid in targets:
            name = nodes[uid].name
            if uid == node.unique_id:
                outcomes[name]["status"] = "skipped" if node.status == "skipped" else "success"
            if node.status in FAILED:
                problems[name].append(node.describe())
    for name, lines in problems.items():
        if lines:
            outcomes[name] = {"status": "failed", "message": "\n".join(lines)}
    return outcomes


def report_model(name: str, outcomes: dict[str, dict[str, str]] | None) -> str:
    """Raise with dbt's message when `name` failed in the build; return a one-line status otherwise."""
    outcome = (outcomes or {}).get(name)
    if outcome is None:
        raise KamError(f"dbt model {name}: no result from the `{BUILD_TASK_ID}` task; clear this task to build "
                       "the model alone")
    if outcome["status"] == "failed":
        raise KamError(f"dbt model {name} failed:\n{outcome['message']}\nFix the cause, then clear this task to "
                       f"re-run `dbt build --select {name}` (the model and its tests) alone.")
    if outcome["status"] != "success":
        raise KamError(f"dbt model {name} was {outcome['status'].replace('_', ' ')} in this build (an upstream "
                       "model failed); clear this task after fixing it to build the model alone")
    return f"dbt model {name}: success (model and its tests)"
