"""Defaults every KAM DAG shares: owner, tags, retries with backoff, failure alerts, the warehouse pool."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kam_warehouse.orchestration.notifications import failure_callbacks

OWNER = "kam-data-engineering"
#: one slot: DuckDB allows one writer, so every task that writes the build warehouse runs in this pool
WAREHOUSE_POOL = "kam_warehouse"
WAREHOUSE_POOL_SLOTS = 1
WAREHOUSE_POOL_DESCRIPTION = "KAM build warehouse (DuckDB): one writer at a time"
TAGS = ("kam",)
#: ingest runs at once: a sensor waiting for a late day must not block catch-up of earlier days
INGEST_MAX_ACTIVE_RUNS = 8
#: pool priority of the ingest loads (weight_rule "absolute"): above every kam_nightly task, so a source
#: that landed loads before a night claims the warehouse (instead of waiting out that night), and crm
#: above billing (ingest.load.SOURCE_ORDER: billing rows reference crm's accounts, billing waits for crm)
LOAD_PRIORITY = {"crm": 1000, "billing": 900}
START_DATE = datetime(2024, 1, 1)


def default_args(**overrides: Any) -> dict[str, Any]:
    """Task defaults: 2 retries with exponential backoff (transient errors only: see tasks.fail_fast)."""
    args: dict[str, Any] = {
        "owner": OWNER,
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=15),
        "on_failure_callback": failure_callbacks(),
    }
    args.update(overrides)
    return args


def dag_kwargs(*, tags: tuple[str, ...], writes_warehouse: bool, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for `@dag`: shared defaults plus `max_active_runs=1` for warehouse writers
    (override it with `max_active_runs=` where runs only wait, e.g. the ingest DAGs' sensors)."""
    kwargs: dict[str, Any] = {
        "start_date": START_DATE,
        "catchup": False,
        "tags": [*TAGS, *tags],
        "default_args": default_args(),
        "on_failure_callback": failure_callbacks(),
    }
    if writes_warehouse:
        kwargs["max_active_runs"] = 1
    kwargs.update(overrides)
    return kwargs
