"""Tonight's tier decision for every scored group at once, as one SQL statement (set-based).

The input per group is the mart's `proposed_tier` (the threshold -> tier mapping lives in dbt only) and
the segment's thresholds, which here serve as the boundaries of the hysteresis margin. Rules, in order
(docs/quality-and-tiers.md, "Nightly reclassification"):

1. an override in force (as_of <= expires_on, or no expiry) wins; unchanged if it is already current;
2. a group without a current tier takes the proposed tier (first classification);
3. a current tier set by an override that is no longer in force hands back to the proposed tier;
4. proposed == current: unchanged;
5. the score clears the boundary by `margin`: move as far as the margin allows;
6. otherwise the proposed tier is a candidate; after `consecutive_nights` nights in a row it moves,
   before that the group is held by hysteresis (the candidate row is kept for the next night).

Parameters: $as_of (DATE), $margin (DOUBLE), $margin_text (the margin as shown in reasons),
$consecutive_nights (INTEGER); `bind` turns them into `?` placeholders and their values. The SQL is what
DuckDB and PostgreSQL both accept; numbers shown in reasons are formatted by the connection
(`Connection.number_text`), so the reasons read the same on either warehouse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kam_warehouse.tiers.settings import TIER_ORDER

#: (expression, decimals or None) -> SQL for the number as text (kam_warehouse.core.warehouse.Connection)
NumberText = Callable[[str, int | None], str]
_PARAMETER = re.compile(r"\$([a-z_]+)")


def bind(sql: str, params: Mapping[str, Any]) -> tuple[str, Sequence[Any]]:
    """`$name` parameters -> `?` placeholders and the values in their order."""
    values: list[Any] = []

    def placeholder(match: re.Match[str]) -> str:
        values.append(params[match.group(1)])
        return "?"

    return _PARAMETER.sub(placeholder, sql), values

_RANKS = ", ".join(f"('{tier}', {rank})" for rank, tier in enumerate(TIER_ORDER))


def _threshold_of(rank: str) -> str:
    """The lower bound of the tier with rank `rank` (null for `other`)."""
    return (f"CASE {rank} WHEN 1 THEN threshold_standard WHEN 2 THEN threshold_key "
            f"WHEN 3 THEN threshold_strategic END")


def _tier_of(rank: str) -> str:
    return "CASE " + rank + " " + " ".join(f"WHEN {r} THEN '{t}'" for r, t in enumerate(TIER_ORDER)) + " END"


def _rank_reached(score: str) -> str:
    """The rank of the highest tier whose lower bound `score` reaches (used with score -/+ margin)."""
    return (f"CASE WHEN {score} >= threshold_strategic THEN 3 WHEN {score} >= threshold_key THEN 2 "
            f"WHEN {score} >= threshold_standard THEN 1 ELSE 0 END")


def decisions_sql(scores: str, number_text: NumberText) -> str:
    """One row per scored group of `scores`: new_tier (null: the current row stays), is_override,
    reason, held_by_hysteresis and the candidate state (first_seen, last_seen, nights) kept when held."""
    margin_boundary = number_text(f"CASE WHEN p_rank > c_rank THEN {_threshold_of('margin_rank')} "
                                  f"ELSE {_threshold_of('margin_rank + 1')} END", None)
    proposed_boundary = number_text(f"CASE WHEN p_rank > c_rank THEN {_threshold_of('p_rank')} "
                                    f"ELSE {_threshold_of('p_rank + 1')} END", None)
    return f"""
WITH tier_rank(tier, rnk) AS (VALUES {_RANKS}),
scored AS (
    SELECT account_id, score, proposed_tier, threshold_standard, threshold_key, threshold_strategic
    FROM {scores} WHERE score IS NOT NULL
),
current_tier AS (
    SELECT account_id, tier, coalesce(is_override, FALSE) AS is_override
    FROM tiers.account_tier_history WHERE valid_to IS NULL
),
override_in_force AS (
    SELECT account_id, tier, coalesce(reason, '') AS reason, coalesce(set_by, 'unknown') AS set_by, expires_on
    FROM (
        SELECT o.*, row_number() OVER (
            PARTITION BY account_id ORDER BY expires_on DESC NULLS FIRST, tier, set_by) AS pick
        FROM tiers.tier_overrides AS o
        WHERE expires_on IS NULL OR expires_on >= $as_of
    ) AS ranked
    WHERE pick = 1
),
base AS (
    SELECT
        s.*,
        p.rnk AS p_rank,
        c.tier AS current_tier,
        c.is_override AS current_is_override,
        cr.rnk AS c_rank,
        o.tier AS override_tier, o.reason AS override_reason, o.set_by AS override_set_by,
        o.expires_on AS override_expires_on,
        k.candidate_tier, k.first_seen AS k_first_seen, k.last_seen AS k_last_seen, k.nights AS k_nights,
        {_rank_reached("s.score - $margin")} AS up_rank,
        {_rank_reached("s.score + $margin")} AS down_rank,
        {number_text("s.score", 1)} AS score_text
    FROM scored AS s
    INNER JOIN tier_rank AS p ON p.tier = s.proposed_tier
    LEFT JOIN current_tier AS c ON c.account_id = s.account_id
    LEFT JOIN tier_rank AS cr ON cr.tier = c.tier
    LEFT JOIN override_in_force AS o ON o.account_id = s.account_id
    LEFT JOIN tiers.tier_candidates AS k ON k.account_id = s.account_id
),
classified AS (
    SELECT
        base.*,
        CASE
            WHEN override_tier IS NOT NULL AND current_is_override AND current_tier = override_tier
                THEN 'override_in_force'
            WHEN override_tier IS NOT NULL THEN 'override'
            WHEN current_tier IS NULL THEN 'first'
            WHEN current_is_override THEN 'override_ended'
            WHEN proposed_tier = current_tier THEN 'unchanged'
            WHEN p_rank > c_rank AND up_rank > c_rank THEN 'margin'
            WHEN p_rank < c_rank AND down_rank < c_rank THEN 'margin'
            ELSE 'candidate'
        END AS kind,
        CASE WHEN p_rank > c_rank THEN up_rank ELSE down_rank END AS margin_rank,
        CASE WHEN candidate_tier = proposed_tier
            THEN CASE WHEN k_last_seen >= $as_of THEN k_nights ELSE k_nights + 1 END
            ELSE 1 END AS nights,
        CASE WHEN candidate_tier = proposed_tier THEN k_first_seen ELSE $as_of END AS first_seen,
        greatest($as_of, coalesce(k_last_seen, $as_of)) AS last_seen
    FROM base
),
bounded AS (
    SELECT
        classified.*,
        {_tier_of("margin_rank")} AS margin_tier,
        {margin_boundary} AS margin_boundary,
        {proposed_boundary} AS proposed_boundary
    FROM classified
)
SELECT
    account_id,
    score,
    proposed_tier,
    current_tier,
    CASE
        WHEN kind = 'override' THEN override_tier
        WHEN kind IN ('first', 'override_ended') THEN proposed_tier
        WHEN kind = 'margin' THEN margin_tier
        WHEN kind = 'candidate' AND nights >= $consecutive_nights THEN proposed_tier
    END AS new_tier,
    kind IN ('override', 'override_in_force') AS is_override,
    CASE kind
        WHEN 'override_in_force' THEN 'override in force'
        WHEN 'override' THEN 'manual override by ' || override_set_by
            || coalesce(' until ' || CAST(override_expires_on AS VARCHAR), '') || ': ' || override_reason
            || ' (score ' || score_text || ' proposes ' || proposed_tier || ')'
        WHEN 'first' THEN 'first classification: score ' || score_text || ' -> ' || proposed_tier
        WHEN 'override_ended' THEN 'override ended; tier from score ' || score_text || ' -> ' || proposed_tier
            || ' (was ' || current_tier || ' by override)'
        WHEN 'unchanged' THEN 'unchanged'
        WHEN 'margin' THEN 'score ' || score_text || ' crossed ' || current_tier || '→' || margin_tier
            || ' boundary ' || margin_boundary || ' by margin ' || $margin_text
        ELSE CASE WHEN nights >= $consecutive_nights
            THEN 'score ' || score_text || ' beyond ' || current_tier || '→' || proposed_tier || ' boundary '
                || proposed_boundary || ' for ' || CAST(nights AS VARCHAR)
                || ' consecutive nights (less than margin ' || $margin_text || ')'
            ELSE 'held by hysteresis: score ' || score_text || ' beyond ' || current_tier || '→' || proposed_tier
                || ' boundary ' || proposed_boundary || ' by less than margin ' || $margin_text || ', night '
                || CAST(nights AS VARCHAR) || ' of ' || CAST($consecutive_nights AS VARCHAR)
            END
    END AS reason,
    kind = 'candidate' AND nights < $consecutive_nights AS held_by_hysteresis,
    first_seen,
    last_seen,
    nights
FROM bounded
"""
