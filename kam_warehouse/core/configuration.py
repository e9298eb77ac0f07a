"""One schema for everything under config/ (pipeline.yml, quality.yml, tiers.yml) and one reader per key.

Every consumer reads its keys through `load_pipeline`, `load_quality` or `load_tiers` (or `load_all`),
never by indexing the YAML itself, so a key has exactly one validation. An invalid file raises
ConfigError naming the file, the key and what is allowed, e.g.

    config/pipeline.yml: close.day_of_month: Input should be less than or equal to 28 (got 31)

What is configured elsewhere, and why: the tier score's weights, thresholds and points are dbt seeds
(they are data the model joins; dbt tests them), and dbt-only windows are vars in dbt_project.yml.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kam_warehouse.core.errors import ConfigError

PIPELINE_FILE = "pipeline.yml"
QUALITY_FILE = "quality.yml"
TIERS_FILE = "tiers.yml"

Severity = Literal["block", "warn", "off"]
SEVERITIES: tuple[str, ...] = ("block", "warn", "off")
DataDocs = Literal["always", "on_failure"]

StrictPositiveInt = Annotated[int, Field(strict=True, ge=1)]
StrictNonNegativeInt = Annotated[int, Field(strict=True, ge=0)]
PositiveNumber = Annotated[float, Field(gt=0)]


class _Section(BaseModel):
    """A mapping of known keys: an unknown (misspelt) key is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- pipeline.yml
# Every key has a default (the value config/pipeline.yml ships with), so a file may set only what it
# changes; a key that is set must be valid, and an unknown key is an error.
class PublishSection(_Section):
    #: published builds kept for `kam publish --rollback`: the served one and at least one to go back to
    keep_builds: Annotated[int, Field(strict=True, ge=2)] = 5


class CloseSection(_Section):
    #: finance_monthly closes the previous month from this day of the month on (28 exists in every month)
    day_of_month: Annotated[int, Field(strict=True, ge=1, le=28)] = 5


class NightlySection(_Section):
    #: alert when the nightly publish has not happened by this time (UTC), "HH:MM"
    deadline_utc: time = time(6, 0)
    max_runtime_minutes: StrictPositiveInt = 120
    landing_wait_hours: PositiveNumber = 6.0
    landing_poke_minutes: PositiveNumber = 5.0

    @field_validator("deadline_utc", mode="before")
    @classmethod
    def _hhmm(cls, value: Any) -> Any:
        if isinstance(value, int):  # YAML 1.1 reads an unquoted 06:00 as 360 (sexagesimal minutes)
            return time(value // 60 % 24, value % 60)
        if isinstance(value, str):
            try:
                return time.fromisoformat(value)
            except ValueError as exc:
                raise ValueError(f"must be HH:MM (UTC), got {value!r}") from exc
        return value


class MaintenanceSection(_Section):
    keep_airflow_logs_days: StrictPositiveInt = 30


#: a DuckDB memory size: a number and a unit (KB, MB, GB, TB, KiB, MiB, GiB, TiB) or a share of RAM ("80%")
DuckDBSize = Annotated[str, Field(pattern=r"^\s*\d+(\.\d+)?\s*(([KMGT]i?B)|%)\s*$")]


class BuildSection(_Section):
    """The DuckDB resources of the load and the dbt build (Settings.duckdb_limits; kam_warehouse.dbt passes
    them to the profile, ingest.working applies them to the load's connection)."""

    #: DuckDB memory_limit of the build: beyond it DuckDB spills to duckdb_temp_directory (out-of-core)
    duckdb_memory_limit: DuckDBSize = "3GB"
    #: where a build larger than memory spills; "" = the warehouse folder's tmp/ (same disk as the build)
    duckdb_temp_directory: str = ""
    #: dbt threads (models and tests run concurrently); env KAM_DBT_THREADS overrides
    dbt_threads: StrictPositiveInt = 1
    #: a night that loaded little tests only what changed (kam_warehouse.test_scope); every row again at
    #: least this often (days since the last full-scope pass); 0 = every night tests every row
    full_tests_every_days: StrictNonNegativeInt = 7


class PipelineConfig(_Section):
    build: BuildSection = BuildSection()
    publish: PublishSection = PublishSection()
    close: CloseSection = CloseSection()
    nightly: NightlySection = NightlySection()
    maintenance: MaintenanceSection = MaintenanceSection()


# ---------------------------------------------------------------- quality.yml
class CheckSettings(BaseModel):
    """One check's entry: its severity and the thresholds its query reads (check-specific names)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    severity: Severity

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class QualityConfig(_Section):
    checks: dict[str, CheckSettings]
    #: rebuild the GX Data Docs on every gate run, or only when a GX check failed (half the GX time)
    data_docs: DataDocs = "always"

    def require(self, keys: set[str] | frozenset[str], *, source: str) -> dict[str, CheckSettings]:
        """The entries of exactly `keys` (every check the gate knows): an unknown key or a missing one is a
        ConfigError."""
        unknown = sorted(set(self.checks) - set(keys))
        if unknown:
            raise ConfigError(f"{source}: checks: unknown check(s) {', '.join(unknown)}; known: "
                              f"{', '.join(sorted(keys))}")
        return self.select(keys, source=source)

    def select(self, keys: set[str] | frozenset[str], *, source: str) -> dict[str, CheckSettings]:
        """The entries of `keys` (a missing one is a ConfigError); other entries are not looked at."""
        missing = sorted(set(keys) - set(self.checks))
        if missing:
            raise ConfigError(f"{source}: checks: {', '.join(missing)} missing; each needs an entry with a "
                              f"severity ({'/'.join(SEVERITIES)})")
        return {k: self.checks[k] for k in sorted(keys)}


# ---------------------------------------------------------------- tiers.yml
class HysteresisSection(_Section):
    #: score points a score must be beyond a boundary to move the tier at once
    margin: Annotated[float, Field(ge=0)]
    #: nights in a row a new proposed tier must hold to move the tier without the margin
    consecutive_nights: StrictPositiveInt


class TiersConfig(_Section):
    hysteresis: HysteresisSection


class Configuration(_Section):
    """Everything under config/, validated."""

    pipeline: PipelineConfig
    quality: QualityConfig
    tiers: TiersConfig


# ---------------------------------------------------------------- readers
def read_yaml(config_dir: Path, name: str) -> dict[str, Any]:
    """The mapping in `config_dir/name`; ConfigError naming the file when it is missing or malformed."""
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


M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], config_dir: Path, name: str) -> M:
    path = config_dir / name
    try:
        return model.model_validate(read_yaml(config_dir, name))
    except ValidationError as exc:
        raise ConfigError(f"{path}: " + "; ".join(_describe(e) for e in exc.errors())) from exc


def _describe(error: Any) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key (misspelt?)"
    if error["type"] == "missing":
        return f"{key}: required key is missing"
    return f"{key}: {error['msg']} (got {error.get('input')!r})"


def load_pipeline(config_dir: Path) -> PipelineConfig:
    return _validated(PipelineConfig, config_dir, PIPELINE_FILE)


def load_quality(config_dir: Path) -> QualityConfig:
    return _validated(QualityConfig, config_dir, QUALITY_FILE)


def load_tiers(config_dir: Path) -> TiersConfig:
    return _validated(TiersConfig, config_dir, TIERS_FILE)


def load_all(config_dir: Path) -> Configuration:
    """Every file of config/, validated (what `kam config check` style callers and tests use)."""
    return Configuration(pipeline=load_pipeline(config_dir), quality=load_quality(config_dir),
                         tiers=load_tiers(config_dir))
