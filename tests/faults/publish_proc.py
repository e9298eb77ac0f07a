"""Publish (or roll back) a stamped build in its own process, so a test can SIGKILL it at a fault point.

Usage: python publish_proc.py WAREHOUSE CONFIG_DIR publish RUN_ID
       python publish_proc.py WAREHOUSE CONFIG_DIR rollback
KAM_FAULT_POINT (kam_warehouse.faults) in the environment names where the process kills itself;
KAM_WAREHOUSE_URL picks the engine (a PostgreSQL warehouse: the stamped build is written there).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from kam_warehouse.serving import rollback
from kam_warehouse.settings import Settings
from tests.serving.stamped import PostgresStampedBuilds, StampedBuilds


def main(warehouse: Path, config: Path, action: str, run_id: str | None) -> None:
    url = os.environ.get("KAM_WAREHOUSE_URL", "")
    settings = Settings(landing_dir=warehouse.parent / "landing", warehouse_dir=warehouse, config_dir=config,
                        warehouse_url=url)
    if action == "publish":
        assert run_id is not None
        (PostgresStampedBuilds(settings) if url else StampedBuilds(settings)).publish(run_id)
    else:
        rollback(settings)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
