"""State lives under configurable roots (explicit arguments beat env vars, which beat the repo defaults), and
config/ has one schema with one reader per key whose errors name the file, the key and what is allowed."""

from datetime import time
from pathlib import Path

import pytest

from expectations.checks import ALL_CHECKS
from expectations.dbt_results import DBT_KEYS
from kam_warehouse.core.configuration import load_all, load_pipeline, load_quality, load_tiers
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


def test_repo_config_is_valid_and_names_every_gate_check() -> None:
    """Every file of the versioned config/ passes the schema, and quality.yml has exactly the gate's checks."""
    cfg = load_all(REPO_ROOT / "config")
    assert cfg.pipeline.close.day_of_month == 5 and cfg.pipeline.nightly.deadline_utc == time(6, 0)
    assert cfg.tiers.hysteresis.consecutive_nights >= 1
    assert set(cfg.quality.checks) == {c.key for c in ALL_CHECKS} | DBT_KEYS
    # a reader of some checks gets exactly those (the gate alone rejects checks it does not know)
    assert set(cfg.quality.select({"raw.volume"}, source="quality.yml")) == {"raw.volume"}
    with pytest.raises(ConfigError, match=r"quality.yml: checks: raw.nope missing"):
        cfg.quality.select({"raw.nope"}, source="quality.yml")


@pytest.mark.parametrize(("text", "expected"), [
    ("close:\n  day_of_month: 31\n", "pipeline.yml: close.day_of_month: Input should be less than or equal to 28 (got 31)"),
    ("close:\n  day_of_month: '5'\n", "close.day_of_month: Input should be a valid integer (got '5')"),
    ("publish:\n  keep_builds: 1\n", "publish.keep_builds: Input should be greater than or equal to 2 (got 1)"),
    ("publish:\n  keep_build: 3\n", "publish.keep_build: unknown key (misspelt?)"),
    ("nightly:\n  deadline_utc: '6 am'\n", "nightly.deadline_utc: Value error, must be HH:MM (UTC), got '6 am'"),
    ("- just a list\n", "must hold a mapping at the top level"),
    ("close: [\n", "is not valid YAML"),
])
def test_an_invalid_pipeline_setting_names_file_key_and_what_is_allowed(tmp_path: Path, text: str,
                                                                         expected: str) -> None:
    """A wrong value, a misspelt key or a malformed file is a ConfigError naming the file and the key."""
    (tmp_path / "pipeline.yml").write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_pipeline(tmp_path)
    assert str(tmp_path / "pipeline.yml") in str(raised.value)
    assert expected in str(raised.value)


def test_every_reader_of_a_key_is_the_schema(tmp_path: Path) -> None:
    """close.day_of_month and publish.keep_builds had two readers with different validation: now the Airflow
    schedule, the close task and publish all get the schema's answer (and its error)."""
    from kam_warehouse.orchestration import config as orchestration_config
    from kam_warehouse.serving.publish import keep_builds

    settings = Settings(landing_dir=tmp_path / "l", warehouse_dir=tmp_path / "w", config_dir=tmp_path)
    (tmp_path / "pipeline.yml").write_text("close:\n  day_of_month: 12\npublish:\n  keep_builds: 7\n")
    assert orchestration_config.load(tmp_path).close_day_of_month == load_pipeline(tmp_path).close.day_of_month == 12
    assert keep_builds(settings) == 7
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "pipeline.yml").write_text("close:\n  day_of_month: 0\npublish:\n  keep_builds: 1\n")
    with pytest.raises(ConfigError, match=r"close\.day_of_month: Input should be greater than or equal to 1"):
        orchestration_config.load(bad)
    with pytest.raises(ConfigError, match=r"publish\.keep_builds: Input should be greater than or equal to 2"):
        keep_builds(Settings(landing_dir=bad, warehouse_dir=bad, config_dir=bad))


def test_a_partial_pipeline_file_takes_the_documented_defaults(tmp_path: Path) -> None:
    """A file that sets only what it changes gets the shipped defaults for the rest; an unquoted 06:00 (YAML
    1.1 reads it as 360 minutes) is still 06:00."""
    (tmp_path / "pipeline.yml").write_text("nightly:\n  deadline_utc: 07:30\n")
    cfg = load_pipeline(tmp_path)
    shipped = load_pipeline(REPO_ROOT / "config")
    assert cfg.nightly.deadline_utc == time(7, 30)
    assert (cfg.publish, cfg.close, cfg.maintenance) == (shipped.publish, shipped.close, shipped.maintenance)


def test_missing_files_and_required_keys_are_named(tmp_path: Path) -> None:
    """A missing file names the file; tiers.yml and quality.yml have no defaults, so a missing key is named."""
    with pytest.raises(ConfigError, match=r"tiers\.yml is missing"):
        load_tiers(tmp_path)
    (tmp_path / "tiers.yml").write_text("hysteresis:\n  margin: -1\n")
    with pytest.raises(ConfigError) as raised:
        load_tiers(tmp_path)
    assert "hysteresis.margin: Input should be greater than or equal to 0 (got -1)" in str(raised.value)
    assert "hysteresis.consecutive_nights: required key is missing" in str(raised.value)
    (tmp_path / "quality.yml").write_text("checks:\n  raw.volume: {severity: loud}\n")
    with pytest.raises(ConfigError, match=r"checks\.raw\.volume\.severity: Input should be 'block', 'warn' or 'off'"):
        load_quality(tmp_path)
