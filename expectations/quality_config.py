"""config/quality.yml for the gate: severity (`block` | `warn` | `off`) and thresholds per check key.

The file's schema (and its one reader) is kam_warehouse.core.configuration; this module asks it for
exactly the keys the gate knows, so a misspelt or missing check is an error naming the file.
"""

from __future__ import annotations

from pathlib import Path

from kam_warehouse.core.configuration import QUALITY_FILE, SEVERITIES, CheckSettings, Severity, load_quality

CheckConfig = CheckSettings

__all__ = ["QUALITY_FILE", "SEVERITIES", "CheckConfig", "Severity", "load_quality_config"]


def load_quality_config(config_dir: Path, keys: set[str] | frozenset[str]) -> dict[str, CheckConfig]:
    """Severity and thresholds of the checks `keys`; one missing from the file is a ConfigError (the gate
    itself also rejects a check it does not know)."""
    return load_quality(config_dir).select(keys, source=str(config_dir / QUALITY_FILE))
