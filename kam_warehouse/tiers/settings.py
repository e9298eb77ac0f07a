"""config/tiers.yml: the hysteresis that keeps tiers from flapping, and the tier order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kam_warehouse.config import load_yaml, setting
from kam_warehouse.errors import ConfigError

TIERS_FILE = "tiers.yml"
#: lowest to highest; the thresholds in marts.mart_account_tier_scores are the lower bounds of the upper three
TIER_ORDER: tuple[str, ...] = ("other", "standard", "key", "strategic")


@dataclass(frozen=True)
class TierSettings:
    margin: float
    consecutive_nights: int


def load_tier_settings(config_dir: Path) -> TierSettings:
    data = load_yaml(config_dir, TIERS_FILE)
    source = str(config_dir / TIERS_FILE)
    margin = setting(data, "hysteresis.margin", source=source)
    nights = setting(data, "hysteresis.consecutive_nights", source=source)
    if not isinstance(margin, int | float) or margin < 0:
        raise ConfigError(f"{source}: hysteresis.margin must be a number >= 0 (score points), got {margin!r}")
    if not isinstance(nights, int) or nights < 1:
        raise ConfigError(f"{source}: hysteresis.consecutive_nights must be an integer >= 1, got {nights!r}")
    return TierSettings(margin=float(margin), consecutive_nights=nights)
