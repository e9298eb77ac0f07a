"""Where state lives: the settings are part of the core (kam_warehouse.core.settings); this is their old
import path, kept for every module that imports them from here."""

from kam_warehouse.core.settings import (
    DBT_PROJECT_DIR,
    ENV_MODE,
    PII_KEY_ENV,
    REPO_ROOT,
    THROWAWAY_KEY_MODES,
    Settings,
    require_pii_key,
)

__all__ = ["DBT_PROJECT_DIR", "ENV_MODE", "PII_KEY_ENV", "REPO_ROOT", "THROWAWAY_KEY_MODES", "Settings",
           "require_pii_key"]
