"""State lives under configurable roots: explicit arguments beat env vars, which beat the repo defaults."""

from pathlib import Path

import pytest

from kam_warehouse.config import load_yaml, setting
from kam_warehouse.errors import ConfigError
from kam_warehouse.settings import REPO_ROOT, Settings


def test_defaults_are_under_the_repo_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no env vars the landing zone and warehouse default to data/landing and data/warehouse."""
    for name in ("KAM_LANDING_DIR", "KAM_WAREHOUSE_DIR", "KAM_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    s = Settings.from_env()
    assert s.landing_dir == REPO_ROOT / "data" / "landing"
    assert s.serving_db == REPO_ROOT / "data" / "warehouse" / "serving.duckdb"
    assert s.config_dir == REPO_ROOT / "config"


def test_env_vars_and_arguments_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """KAM_LANDING_DIR / KAM_WAREHOUSE_DIR are defaults; explicit --landing/--warehouse win over them."""
    monkeypatch.setenv("KAM_LANDING_DIR", str(tmp_path / "env-landing"))
    monkeypatch.setenv("KAM_WAREHOUSE_DIR", str(tmp_path / "env-wh"))
    assert Settings.from_env().landing_dir == tmp_path / "env-landing"
    s = Settings.from_env(warehouse=tmp_path / "arg-wh")
    assert s.build_db == tmp_path / "arg-wh" / "build.duckdb"
    assert s.landing_dir == tmp_path / "env-landing"


def test_missing_config_setting_names_file_and_key(tmp_path: Path) -> None:
    """A missing or malformed config file / key raises ConfigError naming the file and the key."""
    with pytest.raises(ConfigError, match=r"pipeline\.yml is missing"):
        load_yaml(tmp_path, "pipeline.yml")
    (tmp_path / "pipeline.yml").write_text("publish: {keep_builds: 3}\n")
    cfg = load_yaml(tmp_path, "pipeline.yml")
    assert setting(cfg, "publish.keep_builds", source="pipeline.yml") == 3
    with pytest.raises(ConfigError, match=r"pipeline.yml: required setting 'close.day_of_month'"):
        setting(cfg, "close.day_of_month", source="pipeline.yml")


def test_repo_config_is_complete() -> None:
    """The versioned config/pipeline.yml has every key the pipeline reads."""
    cfg = load_yaml(REPO_ROOT / "config", "pipeline.yml")
    for key in ("publish.keep_builds", "close.day_of_month", "nightly.deadline_utc"):
        setting(cfg, key, source="config/pipeline.yml")
