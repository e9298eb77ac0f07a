"""Fixtures for the serving tests: a warehouse folder in tmp_path with its own pipeline.yml, and a
build warehouse whose content is stamped with the run that built it (tests/serving/stamped.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kam_warehouse.settings import Settings
from tests.serving.stamped import StampedBuilds, stamp_rows

__all__ = ["StampedBuilds", "stamp_rows"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    config = tmp_path / "config"
    config.mkdir()
    (config / "pipeline.yml").write_text("publish:\n  keep_builds: 3\nclose:\n  day_of_month: 5\n")
    return Settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "warehouse", config_dir=config)


@pytest.fixture
def builds(settings: Settings) -> StampedBuilds:
    return StampedBuilds(settings)
