"""An independent pandas computation of the tier score, written from docs/quality-and-tiers.md ("The
score"), not from the SQL. It starts from staging tables, the group mapping and the group's monthly
revenue, and is compared column by column with marts.mart_account_tier_scores on a generated book."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

TIERS = ("strategic", "key", "standard")


@dataclass(frozen=True)
class Windows:
    """The day windows of the signals (dbt vars health_recent_days / health_prior_days / no contact)."""

    recent_days: int = 90
    prior_days: int = 365
    no_contact_days: int = 90


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def pct(values: pd.Series, population: pd.Series) -> pd.Series:
    """100 x cume_dist: the share of the population with a value <= x (ties share the higher rank)."""
    pop = np.sort(population.to_numpy(dtype=float))
    counts = np.searchsorted(pop, values.to_numpy(dtype=float), side="right")
    return pd.Series(100.0 * counts / len(pop), index=values.index)


def _row_mean(frame: pd.DataFrame) -> pd.Series:
    """Mean of the non-null values per row; null when all are null."""
    return frame.mean(axis=1, skipna=True)


def group_inputs(con: duckdb.DuckDBPyConnection, as_of: dt.date, w: Windows) -> pd.DataFrame:
    """The raw inputs per group (doc: "Inputs of group g")."""
    d = pd.Timestamp(as_of)
    groups = _frame(con, "select account_id, survivor_account_id, group_id, is_merged from intermediate.int_account_groups")
    group_of = groups.set_index("account_id")["group_id"]
    survivor_group = groups.set_index("account_id")["survivor_account_id"].map(group_of)
    accounts = _frame(con, "select account_id, segment, customer_type, is_reference_customer, estimated_annual_budget"
                           " from staging.stg_crm__accounts")
    members = accounts.merge(groups[~groups["is_merged"]][["account_id", "group_id"]], on="account_id")
    members["estimated_annual_budget"] = members["estimated_annual_budget"].astype(float)
    out = members.groupby("group_id").agg(
        is_strategic_type=("customer_type", lambda s: bool(s.isin(["important", "strategic"]).any())),
        is_reference_customer=("is_reference_customer", lambda s: bool(s.fillna(False).any())),
        estimated_annual_budget=("estimated_annual_budget", lambda s: s.sum() if s.notna().any() else np.nan),
    )
    head_segment = accounts.set_index("account_id")["segment"]
    out["segment"] = [head_segment.get(g) if isinstance(head_segment.get(g), str) else "default" for g in out.index]

    monthly = _frame(con, "select group_id, revenue_month, revenue from marts.fct_group_revenue_monthly")
    monthly["revenue"] = monthly["revenue"].astype(float)
    m = pd.Timestamp(as_of.replace(day=1))
    monthly["revenue_month"] = pd.to_datetime(monthly["revenue_month"])

    def window(end: pd.Timestamp) -> pd.Series:
        start = end - pd.DateOffset(months=11)
        inside = monthly[(monthly["revenue_month"] >= start) & (monthly["revenue_month"] <= end)]
        return inside.groupby("group_id")["revenue"].sum()

    out["revenue_t12m"] = window(m).reindex(out.index).fillna(0.0)
    out["revenue_t12m_prior"] = window(m - pd.DateOffset(months=12)).reindex(out.index).fillna(0.0)
    out["revenue_lifetime"] = (monthly[monthly["revenue_month"] <= m].groupby("group_id")["revenue"].sum()
                               .reindex(out.index).fillna(0.0))

    acts = _frame(con, "select account_id, activity_type, activity_date from staging.stg_crm__activities")
    acts["activity_date"] = pd.to_datetime(acts["activity_date"])
    acts = acts[acts["activity_date"] <= d].assign(group_id=lambda f: f["account_id"].map(survivor_group))
    by = acts.groupby("group_id")
    out["last_activity_date"] = by["activity_date"].max().reindex(out.index)
    visits = acts[(acts["activity_type"] == "executive_visit")
                  & (acts["activity_date"] > d - pd.Timedelta(days=w.prior_days))]
    out["executive_visits_12m"] = visits.groupby("group_id").size().reindex(out.index).fillna(0).astype(int)
    recent = acts[acts["activity_date"] > d - pd.Timedelta(days=w.recent_days)]
    out["activities_recent"] = recent.groupby("group_id").size().reindex(out.index).fillna(0).astype(int)

    pays = _frame(con, "select p.account_id, p.payment_date, i.due_date from staging.stg_billing__payments p"
                       " join staging.stg_billing__invoices i on i.invoice_id = p.invoice_id")
    pays["payment_date"] = pd.to_datetime(pays["payment_date"])
    pays = pays[(pays["payment_date"] <= d) & (pays["payment_date"] > d - pd.Timedelta(days=w.prior_days))]
    pays["dpd"] = (pays["payment_date"] - pd.to_datetime(pays["due_date"])).dt.days
    pays["group_id"] = pays["account_id"].map(survivor_group)
    out["avg_days_past_due_12m"] = pays.groupby("group_id")["dpd"].mean().reindex(out.index)

    opps = _frame(con, "select account_id, amount, probability, currency from staging.stg_crm__opportunities"
                       " where is_open")
    rates = _frame(con, "select rate_date, currency, rate_to_reporting from staging.stg_billing__fx_rates")
    rates = rates[pd.to_datetime(rates["rate_date"]) <= d].sort_values("rate_date")
    latest = rates.groupby("currency")["rate_to_reporting"].last().astype(float)
    reporting = os.environ.get("KAM_REPORTING_CURRENCY", "CNY").upper()
    opps["rate"] = [1.0 if c == reporting else latest.get(c, np.nan) for c in opps["currency"]]
    opps["weighted"] = opps["amount"].astype(float) * opps["probability"].astype(float) * opps["rate"]
    opps["group_id"] = opps["account_id"].map(survivor_group)
    out["weighted_pipeline"] = opps.groupby("group_id")["weighted"].sum().reindex(out.index)
    return out


def score(inputs: pd.DataFrame, weights: pd.DataFrame, thresholds: pd.DataFrame, constants: dict[str, float],
          as_of: dt.date, w: Windows) -> pd.DataFrame:
    """Every column of the score per group (doc: "Rows" .. "Play")."""
    c = constants
    f = inputs[(inputs["revenue_t12m"] > 0) | (inputs["weighted_pipeline"].fillna(0) > 0)].copy()
    f["growth_yoy"] = np.where(f["revenue_t12m_prior"] > 0, f["revenue_t12m"] / f["revenue_t12m_prior"].where(
        f["revenue_t12m_prior"] > 0) - 1, np.nan)
    f["wallet_headroom"] = f["estimated_annual_budget"] - f["revenue_t12m"]

    def positive_pct(col: str) -> pd.Series:
        positive = f[col] > 0
        out = pd.Series(np.where(f[col].notna(), 0.0, np.nan), index=f.index)
        out[positive] = pct(f.loc[positive, col], f.loc[positive, col])
        return out

    f["revenue_score"] = positive_pct("revenue_t12m")
    has_growth = f["growth_yoy"].notna()
    f["growth_component"] = np.nan
    f.loc[has_growth, "growth_component"] = pct(f.loc[has_growth, "growth_yoy"], f.loc[has_growth, "growth_yoy"])
    f["pipeline_component"] = positive_pct("weighted_pipeline")
    f["headroom_component"] = positive_pct("wallet_headroom")
    f["potential_score"] = _row_mean(f[["growth_component", "pipeline_component", "headroom_component"]])
    f["strategic_score"] = (c["strategic_type_points"] * f["is_strategic_type"]
                            + c["reference_customer_points"] * f["is_reference_customer"]).astype(float)
    f["activity_component"] = np.where(
        f["last_activity_date"].notna(),
        np.minimum(c["activity_points_cap"], c["executive_visit_points"] * f["executive_visits_12m"]
                   + c["recent_activity_points"] * f["activities_recent"]), np.nan)
    f["payment_component"] = (c["payment_base_points"] - c["payment_points_per_day_past_due"]
                              * f["avg_days_past_due_12m"]).clip(0, 100)
    f["relationship_score"] = _row_mean(f[["activity_component", "payment_component"]])

    wt = weights.set_index("segment")
    seg_w = wt.reindex(f["segment"]).set_axis(f.index)
    seg_w = seg_w.fillna({k: wt.loc["default", k] for k in wt.columns})
    dims = ("revenue", "potential", "strategic", "relationship")
    raw = pd.DataFrame({d: seg_w[f"w_{d}"] * f[f"{d}_score"].notna() for d in dims})
    for d in dims:
        f[f"w_{d}"] = raw[d] / raw.sum(axis=1)
    f["missing_inputs"] = [",".join(d for d in dims if pd.isna(row[f"{d}_score"])) for _, row in f.iterrows()]
    f["score"] = sum(f[f"w_{d}"] * f[f"{d}_score"].fillna(0) for d in dims)

    th = thresholds.set_index("segment")
    seg_t = th.reindex(f["segment"]).set_axis(f.index).fillna({k: th.loc["default", k] for k in th.columns})
    for t in TIERS:
        f[f"threshold_{t}"] = seg_t[f"threshold_{t}"]
    f["proposed_tier"] = np.select([f["score"] >= f[f"threshold_{t}"] for t in TIERS], list(TIERS), "other")

    def band(s: pd.Series) -> np.ndarray:
        return np.select([s >= c["box_high_cutoff"], s >= c["box_mid_cutoff"]], ["high", "mid"], "low")

    f["contribution_band"] = band(f["revenue_score"])
    f["potential_band"] = band(f["potential_score"])
    f["nine_box_cell"] = f["contribution_band"] + "/" + f["potential_band"]
    growth = f["growth_yoy"]
    f["quadrant"] = np.select(
        [(f["revenue_score"] >= c["quadrant_core_cutoff"]) & (growth.fillna(0) >= c["quadrant_falling_growth"]),
         (f["revenue_score"] >= c["box_mid_cutoff"]) & (growth >= c["quadrant_fast_growth"]),
         f["revenue_score"] >= c["box_mid_cutoff"]],
        ["core_value", "high_potential", "maintain"], "optimise")
    days = (pd.Timestamp(as_of) - pd.to_datetime(f["last_activity_date"])).dt.days
    high = f["contribution_band"] == "high"
    f["play"] = np.select(
        [(f["revenue_t12m"] <= 0) & (f["revenue_lifetime"] <= 0),
         f["revenue_t12m"] <= 0,
         high & ((growth < c["quadrant_falling_growth"]) | days.isna() | (days > w.no_contact_days)),
         high,
         f["is_strategic_type"]],
        ["acquire", "watch", "win_back", "retain", "upgrade"], "watch")
    return f


def reference_scores(con: duckdb.DuckDBPyConnection, w: Windows = Windows()) -> pd.DataFrame:
    """The reference for the warehouse behind `con`: as-of date from the load manifest, seeds as loaded."""
    (as_of,) = con.execute("select max(extract_day) from raw.load_manifest where status = 'loaded'").fetchone()
    weights = _frame(con, "select * from seeds.tier_weights")
    thresholds = _frame(con, "select * from seeds.tier_thresholds")
    constants = dict(con.execute("select constant, value from seeds.tier_score_constants").fetchall())
    return score(group_inputs(con, as_of, w), weights, thresholds, constants, as_of, w)
