"""`kam tiers simulate`: which groups would change tier under other weights or thresholds, read-only.

Tonight's dimension scores (revenue, potential, strategic, relationship) do not depend on the weights or
thresholds, so a simulation re-weights them exactly as marts.mart_account_tier_scores does (a null
dimension gets weight 0, the others are re-normalised; docs/quality-and-tiers.md, "Weights") and maps
the score with the given thresholds. With the seeds' own weights and thresholds it reproduces the mart's
`score` and `proposed_tier` (a test holds it to that). The result is compared with the current tier of
each group (tiers.account_tier_history). Nothing is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from kam_warehouse.core.warehouse import WarehouseTarget
from kam_warehouse.errors import KamError
from kam_warehouse.tiers.readers import SCORES, connect_read_only, data_as_of, has_relation, require_scores
from kam_warehouse.tiers.settings import BOUNDS, DIMENSIONS, TIER_ORDER, UNASSIGNED

WEIGHTS_SEED = "seeds.tier_weights"
THRESHOLDS_SEED = "seeds.tier_thresholds"


class SimulationSpecError(KamError):
    """A --weights / --thresholds value that cannot be parsed or is not a valid configuration."""


#: {segment or None (every segment): {name: value}}
Spec = dict[str | None, dict[str, float]]


def parse_spec(values: list[str], names: tuple[str, ...], option: str) -> Spec:
    """`revenue=0.5,potential=0.2` (every segment) or `enterprise:revenue=0.5` (one segment), repeatable."""
    spec: Spec = {}
    for text in values:
        segment, _, body = text.rpartition(":")
        pairs: dict[str, float] = {}
        for item in filter(None, (p.strip() for p in body.split(","))):
            name, sep, raw = item.partition("=")
            name = name.strip()
            if not sep or name not in names:
                raise SimulationSpecError(f"{option} {text!r}: {item!r} is not NAME=VALUE with NAME one of "
                                          f"{', '.join(names)}")
            try:
                value = float(raw)
            except ValueError as exc:
                raise SimulationSpecError(f"{option} {text!r}: {raw.strip()!r} is not a number") from exc
            if not math.isfinite(value):
                raise SimulationSpecError(f"{option} {text!r}: {name} must be a finite number")
            pairs[name] = value
        if not pairs:
            raise SimulationSpecError(f"{option} {text!r} sets nothing; e.g. {option} {names[0]}=...")
        spec.setdefault(segment.strip() or None, {}).update(pairs)
    return spec


def apply_spec(table: pd.DataFrame, spec: Spec, columns: dict[str, str]) -> pd.DataFrame:
    """The seed table (index segment) with the spec applied: None = every row, else that segment's row
    (created from `default` when the seed has none)."""
    out = table.copy()
    for segment, pairs in spec.items():
        if segment is not None and segment not in out.index:
            out.loc[segment] = out.loc["default"]
        rows = out.index if segment is None else [segment]
        for name, value in pairs.items():
            out.loc[rows, columns[name]] = value
    return out


def validate(weights: pd.DataFrame, thresholds: pd.DataFrame) -> None:
    for segment, row in weights.iterrows():
        values = [float(row[f"w_{d}"]) for d in DIMENSIONS]
        if any(not 0 <= v <= 1 for v in values) or abs(sum(values) - 1) > 1e-9:
            shown = ", ".join(f"{d}={v:g}" for d, v in zip(DIMENSIONS, values, strict=True))
            raise SimulationSpecError(f"weights of segment {segment!r} must each be in 0..1 and sum to 1; "
                                      f"they are {shown} (sum {sum(values):g})")
    for segment, row in thresholds.iterrows():
        s, k, st = (float(row[f"threshold_{t}"]) for t in BOUNDS)
        if not 0 <= st < k < s <= 100:
            raise SimulationSpecError(f"thresholds of segment {segment!r} must be 0 <= standard < key < "
                                      f"strategic <= 100; they are strategic={s:g}, key={k:g}, standard={st:g}")


@dataclass
class Simulation:
    as_of: date | None
    groups: int
    #: one row per group: account_id, segment, revenue_t12m, score, simulated_score, current_tier,
    #: proposed_tier, simulated_tier, override_tier, changes
    frame: pd.DataFrame
    weights: pd.DataFrame
    thresholds: pd.DataFrame
    total_revenue: float = field(default=0.0)

    @property
    def changes(self) -> pd.DataFrame:
        return self.frame[self.frame["changes"]]

    @property
    def held_by_override(self) -> pd.DataFrame:
        f = self.frame
        return f[f["override_tier"].notna() & (f["simulated_tier"] != f["current_tier"])]


def rescore(frame: pd.DataFrame, weights: pd.DataFrame, thresholds: pd.DataFrame) -> pd.DataFrame:
    """Score and tier per group with these weights and thresholds (vectorised, the mart's formulas)."""
    seg_w = weights.reindex(frame["segment"]).set_axis(frame.index)
    seg_w = seg_w.fillna({c: weights.loc["default", c] for c in weights.columns})
    raw = pd.DataFrame({d: seg_w[f"w_{d}"] * frame[f"{d}_score"].notna() for d in DIMENSIONS})
    total = raw.sum(axis=1)
    score = sum(raw[d] / total * frame[f"{d}_score"].fillna(0.0) for d in DIMENSIONS)
    seg_t = thresholds.reindex(frame["segment"]).set_axis(frame.index)
    seg_t = seg_t.fillna({c: thresholds.loc["default", c] for c in thresholds.columns})
    tier = np.select([score >= seg_t[f"threshold_{t}"] for t in BOUNDS], list(BOUNDS), TIER_ORDER[0])
    return pd.DataFrame({"simulated_score": score, "simulated_tier": tier}, index=frame.index)


def simulate(target: WarehouseTarget, weights_spec: Spec, thresholds_spec: Spec) -> Simulation:
    with connect_read_only(target) as con:
        require_scores(con, "tiers simulate")
        for relation in (WEIGHTS_SEED, THRESHOLDS_SEED, "tiers.account_tier_history", "tiers.tier_overrides"):
            if not has_relation(con, *relation.split(".")):
                raise KamError(f"{relation} does not exist in this warehouse; run `kam run` first")
        as_of = data_as_of(con)
        frame = con.fetch_df(
            f"SELECT s.account_id, s.segment, CAST(s.revenue_t12m AS DOUBLE PRECISION) AS revenue_t12m, "
            f"CAST(s.score AS DOUBLE PRECISION) AS score, s.proposed_tier, "
            f"{', '.join(f'CAST(s.{d}_score AS DOUBLE PRECISION) AS {d}_score' for d in DIMENSIONS)}, "
            f"coalesce(h.tier, '{UNASSIGNED}') AS current_tier, o.tier AS override_tier "
            f"FROM {SCORES} AS s "
            "LEFT JOIN tiers.account_tier_history AS h ON h.account_id = s.account_id AND h.valid_to IS NULL "
            "LEFT JOIN (SELECT account_id, tier, row_number() OVER (PARTITION BY account_id "
            "                  ORDER BY expires_on DESC NULLS FIRST, tier, set_by) AS pick "  # as tiers.decide
            "           FROM tiers.tier_overrides WHERE expires_on IS NULL OR expires_on >= ?) AS o "
            "       ON o.account_id = s.account_id AND o.pick = 1 "
            "ORDER BY s.account_id", [as_of or date.max]).set_index("account_id")
        weights = _numeric(con.fetch_df(f"SELECT * FROM {WEIGHTS_SEED}").set_index("segment"))
        thresholds = _numeric(con.fetch_df(f"SELECT * FROM {THRESHOLDS_SEED}").set_index("segment"))
    weights = apply_spec(weights, weights_spec, {d: f"w_{d}" for d in DIMENSIONS})
    thresholds = apply_spec(thresholds, thresholds_spec, {t: f"threshold_{t}" for t in BOUNDS})
    validate(weights, thresholds)
    frame = frame.join(rescore(frame, weights, thresholds))
    frame["changes"] = frame["override_tier"].isna() & (frame["simulated_tier"] != frame["current_tier"])
    return Simulation(as_of, len(frame), frame, weights, thresholds, float(frame["revenue_t12m"].sum()))


def _numeric(table: pd.DataFrame) -> pd.DataFrame:
    """Seed columns as floats (PostgreSQL returns numeric seeds as Decimal)."""
    return table.astype(float)


def report(sim: Simulation) -> list[str]:
    """The lines `kam tiers simulate` prints."""
    changes = sim.changes
    revenue = float(changes["revenue_t12m"].sum())
    share = f" ({100 * revenue / sim.total_revenue:.1f}% of {sim.total_revenue:,.2f})" if sim.total_revenue else ""
    lines = [f"simulated against the current tiers, data as of {sim.as_of or 'unknown'}: {sim.groups} scored groups",
             f"{len(changes)} group(s) would change tier, revenue_t12m {revenue:,.2f}{share}"]
    if len(changes):
        moves = changes.groupby(["current_tier", "simulated_tier"])["revenue_t12m"].agg(["size", "sum"])
        for (now, then), row in moves.iterrows():
            lines.append(f"  {now} → {then}: {int(row['size'])} group(s), revenue_t12m {row['sum']:,.2f}")
        lines.append(f"{'account':12} {'segment':14} {'revenue_t12m':>16} {'score now → simulated':>22}  tier now → simulated")
        for account, row in changes.iterrows():
            lines.append(f"{account:12} {row['segment']!s:14} {row['revenue_t12m']:>16,.2f} "
                         f"{row['score']:>10.1f} → {row['simulated_score']:<9.1f}  "
                         f"{row['current_tier']} → {row['simulated_tier']}")
    held = sim.held_by_override
    if len(held):
        lines.append(f"{len(held)} group(s) with an override in force keep their tier: {', '.join(held.index)}")
    lines.append("nothing was written")
    return lines
