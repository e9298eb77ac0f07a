"""A plain-Python reference of the nightly tier decision for one group on one night (overrides, first
classification, hysteresis), written from docs/quality-and-tiers.md. The tier step decides in SQL for
all groups at once; tests/tiers/test_reclassify.py replays random nights through both and compares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kam_warehouse.tiers.settings import TIER_ORDER, TierSettings


@dataclass(frozen=True)
class Scored:
    account_id: str
    score: float
    #: lower bound per tier: {"strategic": 70, "key": 50, "standard": 30}
    thresholds: dict[str, float]


@dataclass(frozen=True)
class Current:
    tier: str
    is_override: bool


@dataclass(frozen=True)
class Override:
    tier: str
    reason: str
    set_by: str
    expires_on: date | None


@dataclass(frozen=True)
class Candidate:
    tier: str
    first_seen: date
    last_seen: date
    nights: int


@dataclass(frozen=True)
class Decision:
    #: the tier to record from tonight, or None when the current row stays
    new_tier: str | None
    is_override: bool
    reason: str
    #: candidate state to keep for the next night (None: no pending move)
    candidate: Candidate | None
    held_by_hysteresis: bool = False


def rank(tier: str) -> int:
    return TIER_ORDER.index(tier)


def tier_for(score: float, thresholds: dict[str, float]) -> str:
    """The highest tier whose threshold the score reaches; `other` below every threshold."""
    for tier in reversed(TIER_ORDER[1:]):
        if score >= thresholds[tier]:
            return tier
    return TIER_ORDER[0]


def _boundary(current: str, target: str, thresholds: dict[str, float]) -> float:
    """The threshold crossed moving from `current` to `target`: the target's own lower bound when
    moving up, the lower bound of the tier just above the target when moving down."""
    if rank(target) > rank(current):
        return thresholds[target]
    return thresholds[TIER_ORDER[rank(target) + 1]]


def _fmt(x: float) -> str:
    return f"{x:g}"


def decide(s: Scored, current: Current | None, override: Override | None, candidate: Candidate | None,
           as_of: date, cfg: TierSettings) -> Decision:
    proposed = tier_for(s.score, s.thresholds)
    if override is not None:
        if current is not None and current.is_override and current.tier == override.tier:
            return Decision(None, True, "override in force", None)
        until = f" until {override.expires_on}" if override.expires_on else ""
        return Decision(override.tier, True,
                        f"manual override by {override.set_by}{until}: {override.reason} "
                        f"(score {s.score:.1f} proposes {proposed})", None)
    if current is None:
        return Decision(proposed, False, f"first classification: score {s.score:.1f} -> {proposed}", None)
    if current.is_override:
        return Decision(proposed, False,
                        f"override ended; tier from score {s.score:.1f} -> {proposed} (was {current.tier} by override)",
                        None)
    if proposed == current.tier:
        return Decision(None, False, "unchanged", None)
    return _hysteresis(s, current.tier, proposed, candidate, as_of, cfg)


def _hysteresis(s: Scored, current: str, proposed: str, candidate: Candidate | None, as_of: date,
                cfg: TierSettings) -> Decision:
    up = rank(proposed) > rank(current)
    clear = tier_for(s.score - cfg.margin if up else s.score + cfg.margin, s.thresholds)
    clear_moves = rank(clear) > rank(current) if up else rank(clear) < rank(current)
    if clear_moves:
        boundary = _boundary(current, clear, s.thresholds)
        return Decision(clear, False,
                        f"score {s.score:.1f} crossed {current}→{clear} boundary {_fmt(boundary)} "
                        f"by margin {_fmt(cfg.margin)}", None)
    nights = 1
    first_seen = as_of
    if candidate is not None and candidate.tier == proposed:
        first_seen = candidate.first_seen
        nights = candidate.nights if candidate.last_seen >= as_of else candidate.nights + 1
    pending = Candidate(proposed, first_seen, max(as_of, candidate.last_seen if candidate else as_of), nights)
    boundary = _boundary(current, proposed, s.thresholds)
    if nights >= cfg.consecutive_nights:
        return Decision(proposed, False,
                        f"score {s.score:.1f} beyond {current}→{proposed} boundary {_fmt(boundary)} for {nights} "
                        f"consecutive nights (less than margin {_fmt(cfg.margin)})", None)
    return Decision(None, False,
                    f"held by hysteresis: score {s.score:.1f} beyond {current}→{proposed} boundary "
                    f"{_fmt(boundary)} by less than margin {_fmt(cfg.margin)}, night {nights} of "
                    f"{cfg.consecutive_nights}", pending, held_by_hysteresis=True)
