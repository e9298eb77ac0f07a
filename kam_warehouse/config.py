"""Where the configuration is read: kam_warehouse.core.configuration (one schema, one reader per key).

Kept as the old import path; new code imports the core module.
"""

from kam_warehouse.core.configuration import (
    Configuration,
    load_all,
    load_pipeline,
    load_quality,
    load_tiers,
)
from kam_warehouse.core.configuration import read_yaml as load_yaml

__all__ = ["Configuration", "load_all", "load_pipeline", "load_quality", "load_tiers", "load_yaml"]
