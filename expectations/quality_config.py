"""Reading config/quality.yml: severity (`block` | `warn` | `off`) and thresholds per check key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kam_warehouse.config import load_yaml
from kam_warehouse.errors import ConfigError

Severity = Literal["block", "warn", "off"]
SEVERITIES: tuple[str, ...] = ("block", "warn", "off")
QUALITY_FILE = "quality.yml"


@dataclass(frozen=True)
class CheckConfig:
    severity: Severity
    params: dict[str, Any]


def load_quality_config(config_dir: Path, keys: set[str]) -> dict[str, CheckConfig]:
    """Severity and thresholds for every check key; a key missing from the file is a ConfigError."""
    data = load_yaml(config_dir, QUALITY_FILE)
    checks = data.get("checks")
    source = str(config_dir / QUALITY_FILE)
    if not isinstance(checks, dict):
        raise ConfigError(f"{source}: a 'checks' mapping (check name -> severity and thresholds) is required")
    unknown = sorted(set(checks) - keys)
    if unknown:
        raise ConfigError(f"{source}: unknown check(s) {', '.join(unknown)}; known: {', '.join(sorted(keys))}")
    out: dict[str, CheckConfig] = {}
    for key in sorted(keys):
        entry = checks.get(key)
        if not isinstance(entry, dict) or "severity" not in entry:
            raise ConfigError(f"{source}: check '{key}' needs an entry with a severity ({'/'.join(SEVERITIES)})")
        severity = entry["severity"]
        if severity not in SEVERITIES:
            raise ConfigError(f"{source}: check '{key}' has severity {severity!r}; use one of {SEVERITIES}")
        out[key] = CheckConfig(severity=severity, params={k: v for k, v in entry.items() if k != "severity"})
    return out
