"""Nightly tier reclassification with hysteresis, manual overrides and history (`kam tiers`)."""

from kam_warehouse.tiers.reclassify import TierRunResult, reclassify

__all__ = ["TierRunResult", "reclassify"]
