"""The orchestration keys of `config/pipeline.yml` (`nightly:`, `maintenance:`), read at parse time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from functools import cache
from pathlib import Path

from kam_warehouse.config import load_yaml, setting
from kam_warehouse.errors import ConfigError
from kam_warehouse.settings import Settings

PIPELINE_FILE = "pipeline.yml"


@dataclass(frozen=True)
class OrchestrationConfig:
    deadline_utc: time
    max_runtime: timedelta
    sensor_timeout: timedelta
    sensor_poke: timedelta
    keep_airflow_logs_days: int
    close_day_of_month: int


def _hhmm(value: object, *, source: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"{source}: nightly.deadline_utc must be HH:MM (UTC), got {value!r}") from exc


@cache
def load(config_dir: Path | None = None) -> OrchestrationConfig:
    """Read pipeline.yml from `config_dir` (default: KAM_CONFIG_DIR / the repo's config/)."""
    folder = config_dir or Settings.from_env().config_dir
    cfg = load_yaml(folder, PIPELINE_FILE)
    src = str(folder / PIPELINE_FILE)
    return OrchestrationConfig(
        deadline_utc=_hhmm(setting(cfg, "nightly.deadline_utc", source=src), source=src),
        max_runtime=timedelta(minutes=int(cfg["nightly"].get("max_runtime_minutes", 120))),
        sensor_timeout=timedelta(hours=float(cfg["nightly"].get("landing_wait_hours", 6))),
        sensor_poke=timedelta(minutes=float(cfg["nightly"].get("landing_poke_minutes", 5))),
        keep_airflow_logs_days=int(setting(cfg, "maintenance.keep_airflow_logs_days", source=src)),
        close_day_of_month=int(setting(cfg, "close.day_of_month", source=src)),
    )
