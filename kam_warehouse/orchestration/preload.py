"""Pre-fork warm-up of the local Airflow services (scripts/airflow-local.sh puts an
`airflow_local_settings` module on the services' path that calls `preload()`).

Airflow imports `airflow_local_settings` when any of its processes starts. The LocalExecutor forks its
workers from the scheduler and every task process from a worker, so what the scheduler imported here each
task process inherits instead of importing it again: Airflow's task runner (2 s idle, ~10 s on a loaded
2-core host, paid by the first task of every worker otherwise) and the light modules every DAG file imports.
Nothing heavy (dbt, Great Expectations, DuckDB) is imported: the api-server and dag-processor import this too.
"""

from __future__ import annotations

import importlib
import logging

log = logging.getLogger(__name__)

MODULES = (
    "airflow.sdk.execution_time.supervisor",
    "airflow.sdk.execution_time.task_runner",
    "kam_warehouse.orchestration.tasks",
    "kam_warehouse.orchestration.dbt_models",
)


def preload() -> None:
    """Import MODULES; a module that fails to import is logged and left to the task that needs it."""
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:  # never stop a service from starting over a warm-up
            log.warning("preload of %s failed (%s: %s); tasks import it themselves", name, type(exc).__name__, exc)
