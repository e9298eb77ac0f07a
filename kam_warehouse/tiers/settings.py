"""config/tiers.yml: the hysteresis that keeps tiers from flapping, and the tier order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kam_warehouse.core.configuration import load_tiers

#: the score dimensions a tier weight applies to
DIMENSIONS = ("revenue", "potential", "strategic", "relationship")
#: tier thresholds, highest first: the first bound the score reaches names the tier
BOUNDS = ("strategic", "key", "standard")

TIERS_FILE = "tiers.yml"
#: lowest to highest; the thresholds in marts.mart_account_tier_scores are the lower bounds of the upper three
TIER_ORDER: tuple[str, ...] = ("other", "standard", "key", "strategic")
#: the one name of "no tier row yet" (dim_account.tier is null); `kam tiers explain` says why
UNASSIGNED = "unassigned"


@dataclass(frozen=True)
class TierSettings:
    margin: float
    consecutive_nights: int


def load_tier_settings(config_dir: Path) -> TierSettings:
    """`hysteresis` of config/tiers.yml, validated by kam_warehouse.core.configuration."""
    hysteresis = load_tiers(config_dir).hysteresis
    return TierSettings(margin=hysteresis.margin, consecutive_nights=hysteresis.consecutive_nights)
