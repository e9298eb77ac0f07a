"""Airflow for the DAG tests: a throw-away AIRFLOW_HOME (SQLite) with DAGS_FOLDER = the repo's dags/.

The env is set when this conftest is imported, i.e. before anything imports airflow.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS_DIR = REPO / "dags"

_home = Path(tempfile.mkdtemp(prefix="kam-airflow-test-"))
os.environ["AIRFLOW_HOME"] = str(_home)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_DIR)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_home}/airflow.db"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "False"


@pytest.fixture(scope="session")
def dagbag():
    """Every DAG file of dags/, parsed the way the dag processor parses them."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[Path]:
    """A freshly migrated metadata DB with the kam_warehouse pool (needed by dag.test())."""
    from airflow.models.pool import Pool
    from airflow.utils import db

    from kam_warehouse.orchestration.defaults import (
        WAREHOUSE_POOL,
        WAREHOUSE_POOL_DESCRIPTION,
        WAREHOUSE_POOL_SLOTS,
    )

    db.resetdb()
    Pool.create_or_update_pool(WAREHOUSE_POOL, WAREHOUSE_POOL_SLOTS, WAREHOUSE_POOL_DESCRIPTION,
                               include_deferred=False)
    yield _home
