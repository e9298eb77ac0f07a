"""The resources of an embedded DuckDB database instance: its memory_limit and where it spills beyond it.

config/pipeline.yml `build:` sets them (`duckdb_memory_limit`, `duckdb_temp_directory`;
`Settings.duckdb_limits()` reads them). The dbt build gets them as profile `config_options`
(kam_warehouse.dbt); the load applies them to the DuckDB connections it opens (the embedded build
warehouse, or the working file of a server warehouse: ingest.working). Without them DuckDB takes 80% of
the host's RAM: a 100M-line load held ~19 GB of a 24 GB host while the limit configured for the build
was 3 GB.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kam_warehouse.core.warehouse.sql import string_literal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DuckDBLimits:
    memory_limit: str  # a DuckDB size ("3GB", "80%"), validated by the configuration
    temp_directory: Path

    def apply(self, con: Any) -> None:
        """Set both on the database instance behind `con` (a duckdb connection; the settings are global to
        the instance). An instance that has already spilled keeps its temp directory (DuckDB refuses to
        switch it): logged, the memory limit still applies."""
        con.execute(f"SET memory_limit = {string_literal(self.memory_limit.strip())}")
        self.temp_directory.mkdir(parents=True, exist_ok=True)
        try:
            con.execute(f"SET temp_directory = {string_literal(str(self.temp_directory))}")
        except Exception as exc:  # duckdb.Error; this module does not import duckdb
            log.warning("DuckDB keeps its temp directory (%s); wanted %s", exc, self.temp_directory)
