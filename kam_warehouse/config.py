"""Reading the versioned YAML configuration under `Settings.config_dir` (config/ in the repo)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kam_warehouse.errors import ConfigError


def load_yaml(config_dir: Path, name: str) -> dict[str, Any]:
    """Load `config_dir/name`; raise ConfigError naming the file when it is missing or malformed."""
    path = config_dir / name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file {path} is missing (set KAM_CONFIG_DIR or restore it from git)") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"configuration file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"configuration file {path} must hold a mapping at the top level")
    return data


def setting(config: dict[str, Any], dotted: str, *, source: str) -> Any:
    """Look up `a.b.c` in a loaded config; raise ConfigError naming the file and key when absent."""
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"{source}: required setting '{dotted}' is missing")
        node = node[part]
    return node
