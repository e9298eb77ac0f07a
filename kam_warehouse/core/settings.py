"""Where state lives. Every path is under a configurable root; nothing in the repo tree is state.

| what | default | env |
|---|---|---|
| landing zone | data/landing | KAM_LANDING_DIR |
| build + serving warehouse, parquet, Data Docs, kept builds | data/warehouse | KAM_WAREHOUSE_DIR |
| versioned configuration (tiers, quality, pipeline) | config/ in the repo | KAM_CONFIG_DIR |
| reporting currency | CNY | KAM_REPORTING_CURRENCY |
| key of the contact-data HMAC (hex, 16-64 bytes) | none: required | KAM_PII_KEY |
| run mode: `demo` / `test` may run without KAM_PII_KEY (a throw-away key) | production | KAM_ENV |
| warehouse engine: embedded DuckDB files, or a PostgreSQL server (kam_warehouse.core.warehouse) | duckdb: | KAM_WAREHOUSE_URL |
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from kam_warehouse.core.errors import ConfigError
from kam_warehouse.core.warehouse import Location, Warehouse, locate
from kam_warehouse.core.warehouse.duckdb_limits import DuckDBLimits
from kam_warehouse.core.warehouse.locate import URL_ENV

if TYPE_CHECKING:
    from kam_warehouse.core.configuration import BuildSection

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


PII_KEY_ENV = "KAM_PII_KEY"
ENV_MODE = "KAM_ENV"
THROWAWAY_KEY_MODES = frozenset({"demo", "test"})
_HEX_KEY = re.compile(r"^(?:[0-9a-fA-F]{2}){16,64}$")


def require_pii_key() -> str:
    """The contact-data HMAC key (KAM_PII_KEY), checked before a run starts.

    Unset under KAM_ENV=demo|test: a throw-away key is generated for this process (and put in its
    environment, where dbt reads it). Unset otherwise: ConfigError, so a production run never hashes
    personal data with an unkeyed or guessable digest.
    """
    key = os.environ.get(PII_KEY_ENV, "").strip()
    if not key:
        mode = os.environ.get(ENV_MODE, "").strip().lower()
        if mode not in THROWAWAY_KEY_MODES:
            raise ConfigError(
                f"{PII_KEY_ENV} is not set: contact e-mails and phones are hashed with HMAC-SHA256 under this key. "
                "Generate one with `python -c 'import secrets; print(secrets.token_hex(32))'`, keep it in your "
                f"secret store and set {PII_KEY_ENV} for every process that runs the pipeline (changing it changes "
                f"every contact digest). For a demo or a test run set {ENV_MODE}=demo (a throw-away key is used)."
            )
        key = secrets.token_hex(32)
        os.environ[PII_KEY_ENV] = key
        logging.getLogger(__name__).warning("%s=%s: %s unset, hashing contact data with a throw-away key",
                                            ENV_MODE, mode, PII_KEY_ENV)
    if not _HEX_KEY.match(key):
        raise ConfigError(f"{PII_KEY_ENV} must be 32-128 hex characters (16-64 random bytes), got {len(key)} "
                          "characters that are not all hex; generate one with "
                          "`python -c 'import secrets; print(secrets.token_hex(32))'`")
    return key


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default.resolve()


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse_dir: Path
    config_dir: Path
    reporting_currency: str = "CNY"
    #: KAM_WAREHOUSE_URL: "" or duckdb: (embedded files under warehouse_dir), postgresql://user@host:port/db
    warehouse_url: str = ""

    @classmethod
    def from_env(cls, landing: Path | None = None, warehouse: Path | None = None) -> Settings:
        """Explicit arguments win over env vars, which win over the repo defaults."""
        return cls(
            landing_dir=Path(landing).resolve() if landing else _env_path(
                "KAM_LANDING_DIR", REPO_ROOT / "data" / "landing"),
            warehouse_dir=Path(warehouse).resolve() if warehouse else _env_path(
                "KAM_WAREHOUSE_DIR", REPO_ROOT / "data" / "warehouse"),
            config_dir=_env_path("KAM_CONFIG_DIR", REPO_ROOT / "config"),
            reporting_currency=os.environ.get("KAM_REPORTING_CURRENCY", "CNY"),
            warehouse_url=os.environ.get(URL_ENV, ""),
        )

    # --- which engine, and where the build and serving databases are (the one switch: KAM_WAREHOUSE_URL)
    @cached_property
    def location(self) -> Location:
        return locate(self.warehouse_url, self.warehouse_dir)

    @property
    def build(self) -> Warehouse:
        """The build warehouse: what the night loads, builds, gates and reclassifies (one writer)."""
        return self.location.build

    @property
    def serving(self) -> Warehouse:
        """The serving warehouse: what readers see, replaced only as a whole by publish."""
        return self.location.serving

    @property
    def engine(self) -> str:
        return self.location.engine

    def build_config(self) -> BuildSection:
        """The `build:` section of config/pipeline.yml; its defaults when the folder has no pipeline.yml
        (a scratch warehouse in tests); an invalid file raises ConfigError naming the key."""
        from kam_warehouse.core.configuration import PIPELINE_FILE, BuildSection, load_pipeline

        if not (self.config_dir / PIPELINE_FILE).is_file():
            return BuildSection()
        return load_pipeline(self.config_dir).build

    def duckdb_limits(self) -> DuckDBLimits:
        """memory_limit and temp directory of the pipeline's DuckDB instances (the dbt build, the load),
        from `build:` (build_config); the environment's KAM_DUCKDB_MEMORY_LIMIT / KAM_DUCKDB_TEMP_DIRECTORY
        win. The temp directory defaults to the warehouse folder's tmp/ (the same disk as the data)."""
        build = self.build_config()
        temp = os.environ.get("KAM_DUCKDB_TEMP_DIRECTORY") or build.duckdb_temp_directory
        return DuckDBLimits(memory_limit=os.environ.get("KAM_DUCKDB_MEMORY_LIMIT") or build.duckdb_memory_limit,
                            temp_directory=Path(temp).expanduser() if temp else self.warehouse_dir / "tmp")

    # --- the embedded engine's files (DuckDB); on another engine use `build` / `serving`
    @property
    def build_db(self) -> Path:
        return self.warehouse_dir / "build.duckdb"

    # --- what readers see: replaced only as a whole, only after the gate passed
    @property
    def serving_db(self) -> Path:
        return self.warehouse_dir / "serving.duckdb"

    @property
    def builds_dir(self) -> Path:
        """Published builds kept for rollback."""
        return self.warehouse_dir / "builds"

    @property
    def parquet_dir(self) -> Path:
        return self.warehouse_dir / "parquet"

    @property
    def data_docs_dir(self) -> Path:
        return self.warehouse_dir / "data_docs"

    @property
    def rejected_dir(self) -> Path:
        """Copies of rejected landing files, kept for inspection (landing itself is never touched)."""
        return self.warehouse_dir / "rejected"

    @property
    def reports_dir(self) -> Path:
        return self.warehouse_dir / "reports"

    @property
    def lock_file(self) -> Path:
        return self.warehouse_dir / ".build.lock"

    def ensure_dirs(self) -> None:
        self.warehouse_dir.mkdir(parents=True, exist_ok=True)
