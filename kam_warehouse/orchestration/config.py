"""The orchestration keys of `config/pipeline.yml` (`nightly:`, `maintenance:`), read at parse time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from functools import cache
from pathlib import Path

from kam_warehouse.core.configuration import load_pipeline
from kam_warehouse.settings import Settings


@dataclass(frozen=True)
class OrchestrationConfig:
    deadline_utc: time
    max_runtime: timedelta
    sensor_timeout: timedelta
    sensor_poke: timedelta
    keep_airflow_logs_days: int
    close_day_of_month: int


@cache
def load(config_dir: Path | None = None) -> OrchestrationConfig:
    """Read pipeline.yml from `config_dir` (default: KAM_CONFIG_DIR / the repo's config/)."""
    cfg = load_pipeline(config_dir or Settings.from_env().config_dir)
    return OrchestrationConfig(
        deadline_utc=cfg.nightly.deadline_utc,
        max_runtime=timedelta(minutes=cfg.nightly.max_runtime_minutes),
        sensor_timeout=timedelta(hours=cfg.nightly.landing_wait_hours),
        sensor_poke=timedelta(minutes=cfg.nightly.landing_poke_minutes),
        keep_airflow_logs_days=cfg.maintenance.keep_airflow_logs_days,
        close_day_of_month=cfg.close.day_of_month,
    )
