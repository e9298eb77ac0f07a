"""The dbt build as an astronomer-cosmos task group: one Airflow task per dbt model (model + its tests).

Loaded from the manifest `make manifest` writes (`dbt parse`), so parsing the DAG never runs dbt.
Execution mode (env KAM_COSMOS_EXECUTION_MODE):
- `watcher` (default): one producer task runs a single `dbt build` (dbt's own threading) in the
  `kam_warehouse` pool; each model's task is a deferrable sensor that reports its model's result. A
  model task that is cleared/retried runs `dbt build` for that model alone.
- `local`: every model task runs its own `dbt build --select <model>` (about 1.4 s of overhead per model),
  each in the `kam_warehouse` pool.
Tier-dependent marts (dim_account, account_tier_history) are views over the tier state: no rebuild needed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from kam_warehouse.orchestration.defaults import WAREHOUSE_POOL
from kam_warehouse.settings import DBT_PROJECT_DIR, Settings

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
PROFILES = DBT_PROJECT_DIR / "profiles.yml"
MODE_ENV = "KAM_COSMOS_EXECUTION_MODE"
#: the cosmos producer task (watcher mode) is the one that writes the warehouse
PRODUCER_TASK_SUFFIX = "dbt_producer_watcher"


def manifest_available(manifest: Path = MANIFEST) -> bool:
    return manifest.is_file()


def _profile_name(project_dir: Path) -> str:
    """The profile named in dbt_project.yml (its target is chosen by env KAM_DBT_TARGET, default duckdb)."""
    return yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8"))["profile"]


def execution_mode() -> str:
    mode = os.environ.get(MODE_ENV, "watcher").strip().lower()
    if mode not in ("watcher", "local"):
        from kam_warehouse.errors import ConfigError

        raise ConfigError(f"{MODE_ENV} must be 'watcher' or 'local', got {mode!r}")
    return mode


def writes_warehouse(task_id: str, mode: str) -> bool:
    """Which cosmos tasks need the one-slot pool: the producer in watcher mode, every task in local mode.

    (Watcher sensors only read the producer's results; putting them in the pool would deadlock it.)
    """
    return mode == "local" or task_id.endswith(PRODUCER_TASK_SUFFIX)


def dbt_task_group(group_id: str, *, settings: Settings, default_args: dict[str, Any]) -> Any:
    """A cosmos DbtTaskGroup over the manifest; call inside a DAG context. Imports cosmos lazily."""
    import airflow.sdk  # noqa: F401  (cosmos must be imported after airflow: circular import otherwise)
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    mode = execution_mode()
    from kam_warehouse.dbt import dbt_environment

    env = dbt_environment(settings)
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(dbt_project_path=DBT_PROJECT_DIR, manifest_path=MANIFEST,
                                     env_vars=env),
        profile_config=ProfileConfig(profile_name=_profile_name(DBT_PROJECT_DIR),
                                     target_name=os.environ.get("KAM_DBT_TARGET", "duckdb"),
                                     profiles_yml_filepath=PROFILES),
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST,
                                   # watcher: the producer's one `dbt build` runs the tests; a sensor per
                                   # model's tests reports them (cosmos has no BUILD node in watcher mode)
                                   test_behavior=TestBehavior.AFTER_EACH if mode == "watcher" else TestBehavior.BUILD,
                                   emit_datasets=False,
                                   enable_owner_inheritance=False),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER if mode == "watcher" else ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        operator_args={"install_deps": False},
        default_args=default_args,
    )
    for task in group:
        if writes_warehouse(task.task_id, mode):
            task.pool = WAREHOUSE_POOL
    return group
