"""Why a group has its tier: current tier (or `unassigned` and why), the score's components, history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kam_warehouse.core.warehouse import WarehouseTarget
from kam_warehouse.tiers.readers import (
    SCORES,
    SCORES_SCHEMA,
    SCORES_TABLE,
    connect_read_only,
    data_as_of,
    group_of,
    has_relation,
)
from kam_warehouse.tiers.settings import UNASSIGNED

SCORE_COLUMNS = ("segment", "score", "proposed_tier", "revenue_t12m", "revenue_score", "potential_score",
                 "strategic_score", "relationship_score", "w_revenue", "w_potential", "w_strategic",
                 "w_relationship", "threshold_strategic", "threshold_key", "threshold_standard", "missing_inputs",
                 "nine_box_cell", "quadrant", "play")


@dataclass
class Explanation:
    account_id: str
    group: str
    tier: str
    #: why the tier is `unassigned` ('' when the group has a tier)
    unassigned_reason: str
    components: dict[str, Any] = field(default_factory=dict)
    #: (tier, valid_from, valid_to, score, reason, is_override)
    history: list[tuple[Any, ...]] = field(default_factory=list)


def unassigned_reason(as_of: date | None, scored: dict[str, Any] | None, scores_built: bool) -> str:
    """The one reason a group has no tier row (the state is always called `unassigned`)."""
    if not scores_built:
        return f"no tier scores in this warehouse yet ({SCORES} missing): run `kam run`"
    if scored is None:
        return (f"not scored: no revenue in the trailing 12 months and no open pipeline as of "
                f"{as_of or 'the as-of date'}")
    return (f"scored {scored['score']:.1f} (proposes {scored['proposed_tier']}) but not reclassified yet: "
            "the tier step has not run since the scores were built")


def explain(target: WarehouseTarget, account_id: str) -> Explanation:
    with connect_read_only(target) as con:
        group = group_of(con, account_id)
        history = con.execute(
            "SELECT tier, valid_from, valid_to, score, reason, is_override FROM tiers.account_tier_history "
            "WHERE account_id = ? ORDER BY valid_from", [group]).fetchall() if has_relation(
            con, "tiers", "account_tier_history") else []
        scores_built = has_relation(con, SCORES_SCHEMA, SCORES_TABLE)
        components: dict[str, Any] = {}
        if scores_built:
            row = con.execute(f"SELECT {', '.join(SCORE_COLUMNS)} FROM {SCORES} WHERE account_id = ?",
                              [group]).fetchone()
            components = dict(zip(SCORE_COLUMNS, row, strict=True)) if row else {}
        as_of = data_as_of(con)
    current = next((h for h in history if h[2] is None), None)
    reason = "" if current else unassigned_reason(as_of, components or None, scores_built)
    return Explanation(account_id, group, current[0] if current else UNASSIGNED, reason, components, history)
