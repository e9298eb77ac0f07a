"""dbt inside Airflow: one `dbt build` for speed, one Airflow task per dbt layer for visibility.

The `dbt_build` task runs the same `kam_warehouse.pipeline.step_dbt_build` as `kam run` (one in-process
dbt invocation, dbt's own DAG ordering and threads) and returns every model's outcome — the model plus
its data tests and unit tests — as its XCom. Each layer (seeds, staging, intermediate, marts, ops: the
model's folder) then has one task in the `dbt_models` group, wired in the layers' lineage, that logs one
line per model and turns red naming every failed model with dbt's message. Clearing a failed layer task
re-runs that layer's failed and skipped models in one `dbt build --select ...` (models + their tests).

Why a task per layer and not per model: under the real scheduler every task pays Airflow's task start-up
(a process, the DAG file parsed again, the API calls), seconds each on a loaded 2-core host; 50 model
tasks eight lineage levels deep made a night 2x a `kam run` (benchmarks/bench_scheduler.py).
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
from kam_warehouse.orchestration.runtime import log

#: dbt resource types that get a task of their own
TASK_RESOURCES = ("model", "seed")
#: the producer task's id (the one dbt build)
BUILD_TASK_ID = "dbt_build"
GROUP_ID = "dbt_models"
FAILED = frozenset({"error", "fail", "runtime error"})
#: layers in build order (a seed's layer is "seeds", a model's is its first folder under models/);
#: a folder not listed here comes after them
LAYERS = ("seeds", "staging", "intermediate", "marts", "ops")


@dataclass(frozen=True)
class DbtNode:
    unique_id: str
    name: str
    resource_type: str
    #: unique ids of the task nodes this one selects from (its upstream tasks)
    upstream: tuple[str, ...]
    #: "seeds" or the model's first folder under models/ (staging, intermediate, marts, ops, ...)
    folder: str = "seeds"


@dataclass(frozen=True)
class DbtLayer:
    """One task of the `dbt_models` group: the models of a layer and the layers it reads from."""

    name: str
    models: tuple[str, ...]
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
                tuple(sorted(d for d in node.get("depends_on", {}).get("nodes", []) if d in selected)),
                _folder(node))
        for uid, node in sorted(selected.items())
    ]


def _folder(node: dict[str, Any]) -> str:
    """"seeds" for a seed; else the model's first folder under models/ (fqn = project, folder..., name)."""
    if node["resource_type"] == "seed":
        return "seeds"
    fqn = node.get("fqn") or []
    return fqn[1] if len(fqn) > 2 else "models"


def task_layers(path: Path | None = None) -> list[DbtLayer]:
    """The `dbt_models` tasks: one per layer, in build order, with the layers each reads from.

    A model belongs to its folder's layer unless it reads a model of a later layer (e.g. an intermediate
    model built on a mart): then it belongs to that later layer, so the layers form no cycle and a
    layer's task never runs before a model it reads."""
    nodes = {n.unique_id: n for n in task_nodes(path)}

    def rank(folder: str) -> tuple[int, str]:
        return (LAYERS.index(folder), "") if folder in LAYERS else (len(LAYERS), folder)

    layer_of: dict[str, tuple[int, str]] = {}

    def layer(uid: str) -> tuple[int, str]:
        if uid not in layer_of:
            layer_of[uid] = max([rank(nodes[uid].folder), *(layer(u) for u in nodes[uid].upstream)])
        return layer_of[uid]

    def name(r: tuple[int, str]) -> str:
        return LAYERS[r[0]] if r[0] < len(LAYERS) else r[1]

    members: dict[tuple[int, str], list[str]] = {}
    reads: dict[tuple[int, str], set[str]] = {}
    for uid, node in nodes.items():
        mine = layer(uid)
        members.setdefault(mine, []).append(node.name)
        reads.setdefault(mine, set()).update(name(layer(u)) for u in node.upstream if layer(u) != mine)
    return [DbtLayer(name(r), tuple(sorted(members[r])), tuple(sorted(reads[r]))) for r in sorted(members)]


def layer_models(layer: str, path: Path | None = None) -> tuple[str, ...]:
    """The models and seeds of `layer` in the manifest (KamError when the manifest has no such layer)."""
    for x in task_layers(path):
        if x.name == layer:
            return x.models
    raise KamError(f"the dbt manifest has no layer {layer!r} any more; the DAG was parsed from an older "
                   "manifest: wait for the dag-processor to re-parse kam_nightly (or restart it)")


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


def report_layer(layer: str, models: tuple[str, ...], outcomes: dict[str, dict[str, str]] | None) -> str:
    """Log one line per model of `layer` from the build's outcomes; raise naming every model that failed
    (with dbt's message) or was not built; return a one-line summary otherwise."""
    if outcomes is None:
        raise KamError(f"dbt layer {layer}: no result from the `{BUILD_TASK_ID}` task; clear this task to build "
                       "the layer's models alone")
    failed, not_built = [], []
    for name in models:
        outcome = outcomes.get(name, {"status": "not_run", "message": ""})
        status = outcome["status"]
        log.info("dbt %s %s: %s", layer, name, "success (model and its tests)" if status == "success"
                 else status.replace("_", " "))
        if status == "failed":
            failed.append(f"{name}:\n{outcome['message']}")
        elif status != "success":
            not_built.append(name)
    if failed or not_built:
        parts = [f"{len(failed)} failed:\n" + "\n".join(failed)] if failed else []
        if not_built:
            parts.append(f"{len(not_built)} not built in this build (an upstream model failed): "
                         + ", ".join(not_built))
        raise KamError(f"dbt layer {layer}: " + "\n".join(parts) + "\nFix the cause, then clear this task to "
                       "re-run `dbt build --select` its failed and skipped models (and their tests) alone.")
    return f"dbt layer {layer}: {len(models)} model(s) and their tests passed"


def rebuild_selection(models: tuple[str, ...], outcomes: dict[str, dict[str, str]] | None) -> tuple[str, ...]:
    """What a cleared layer task rebuilds: its models that did not succeed in the build (all of them when
    every one did, or when the build left no outcomes)."""
    pending = tuple(m for m in models if (outcomes or {}).get(m, {}).get("status") != "success")
    return pending or models
