"""Where state lives. Every path is under a configurable root; nothing in the repo tree is state.

| what | default | env |
|---|---|---|
| landing zone | data/landing | KAM_LANDING_DIR |
| build + serving warehouse, parquet, Data Docs, kept builds | data/warehouse | KAM_WAREHOUSE_DIR |
| versioned configuration (tiers, quality, pipeline) | config/ in the repo | KAM_CONFIG_DIR |
| reporting currency | CNY | KAM_REPORTING_CURRENCY |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default.resolve()


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse_dir: Path
    config_dir: Path
    reporting_currency: str = "CNY"

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
        )

    # --- the build warehouse: one writer at a time (see kam_warehouse.locking)
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
