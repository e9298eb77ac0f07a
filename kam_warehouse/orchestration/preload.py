"""Pre-fork warm-up of the local Airflow services (scripts/airflow-local.sh puts an
`airflow_local_settings` module on the services' path that calls `preload()`).

Airflow imports `airflow_local_settings` when any of its processes starts. The LocalExecutor forks its
workers from the scheduler and every task process from a worker, so what the scheduler imported here each
task process inherits instead of importing it again: Airflow's task runner (2 s idle, ~10 s on a loaded
2-core host, paid by the first task of every worker otherwise) and the light modules every DAG file imports.
In the scheduler only (whose forks run the tasks) also DuckDB, pyarrow and the pipeline modules that most
writer tasks import (`kam run` imports them once, a night's tasks seven times), dbt with its DuckDB
adapter (each dbt layer task imported it again: ~3 s a task on a loaded 2-core host, six layer tasks a
night) and Great Expectations (the gate task: ~7 s on that host). Neither starts a thread at import, so
forking after them is safe; the scheduler's resident memory grows by ~0.5 GB, shared copy-on-write by
the workers and task processes it forks. The api-server, dag-processor and triggerer import only MODULES.
"""

from __future__ import annotations

import importlib
import logging
import sys

log = logging.getLogger(__name__)

MODULES = (
    "airflow.sdk.execution_time.supervisor",
    "airflow.sdk.execution_time.task_runner",
    "kam_warehouse.orchestration.tasks",
    "kam_warehouse.orchestration.dbt_models",
)
#: imported by most writer tasks (loads, claim, gate, tiers, publish): only in the scheduler
SCHEDULER_MODULES = (
    "duckdb",
    "pyarrow",
    "ingest.load",
    "kam_warehouse.pipeline",
    "kam_warehouse.locking",
    "kam_warehouse.orchestration.night",
    "kam_warehouse.serving.builds",
    "kam_warehouse.dbt",
    "dbt.cli.main",
    "dbt.adapters.duckdb",
    "great_expectations",
    "expectations.gx_runner",
)


def preload(argv: list[str] | None = None) -> None:
    """Import MODULES (and SCHEDULER_MODULES in `airflow scheduler`); a module that fails to import is
    logged and left to the task that needs it."""
    args = sys.argv[1:2] if argv is None else argv[1:2]
    for name in (*MODULES, *(SCHEDULER_MODULES if args == ["scheduler"] else ())):
        try:
            importlib.import_module(name)
        except Exception as exc:  # never stop a service from starting over a warm-up
            log.warning("preload of %s failed (%s: %s); tasks import it themselves", name, type(exc).__name__, exc)
