"""The account book: who the customers are, how big, their hierarchy, merges and revenue lifecycle.

Everything is a numpy array indexed by account position i (account number i + 1). The monthly
revenue target `revenue[i, m]` (CNY) drives the billing generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sample_extracts import vocab
from sample_extracts.calendar import DAY, ExtractCalendar, cap_before, office_time
from sample_extracts.seeds import rng_for

NO_MONTH = 10_000  # "never" for churn / comeback / merge month


@dataclass(frozen=True)
class AccountBook:
    size: np.ndarray  # base annual revenue, CNY
    start: np.ndarray  # first revenue month index
    churn: np.ndarray  # first month without revenue (NO_MONTH: never)
    comeback: np.ndarray  # month revenue resumes after churn (NO_MONTH: never)
    parent: np.ndarray  # parent position or -1
    level: np.ndarray  # 0 standalone, 1 group head, 2 subsidiary, 3 sub-subsidiary
    merged_into: np.ndarray  # survivor position or -1
    merge_month: np.ndarray
    customer_type: np.ndarray
    industry: np.ndarray  # index into vocab.INDUSTRIES
    region: np.ndarray  # index into vocab.REGIONS
    currency: np.ndarray  # str
    prepaid_share: np.ndarray  # share of revenue billed as an annual prepaid line (0: none)
    terms: np.ndarray  # payment term days
    late_base: np.ndarray  # usual days paid after due date
    created_at: np.ndarray  # datetime64[s]
    revenue: np.ndarray  # [n, months + 1] monthly revenue target in CNY

    @property
    def n(self) -> int:
        return len(self.size)

    @property
    def number(self) -> np.ndarray:
        return np.arange(1, self.n + 1)

    def size_rank(self) -> np.ndarray:
        """0 (smallest) .. 1 (largest) rank of account size."""
        order = np.argsort(np.argsort(self.size, kind="stable"), kind="stable")
        return order / max(self.n - 1, 1)


def build_account_book(cal: ExtractCalendar, n: int, skew: float, seed: int) -> AccountBook:
    rng = rng_for(seed, "accounts")
    months = cal.months
    size = np.round(np.exp(rng.normal(np.log(250_000.0), skew, n)), -2) + 20_000

    start = np.where(rng.random(n) < 0.65, 0, rng.integers(1, months + 1, n))
    will_churn = rng.random(n) < 0.22
    churn_at = start + rng.integers(4, max(months, 5), n)
    churn = np.where(will_churn & (churn_at < months), churn_at, NO_MONTH)
    comes_back = (churn < NO_MONTH) & (rng.random(n) < 0.4)
    comeback_at = churn + rng.integers(2, 9, n)
    comeback = np.where(comes_back & (comeback_at <= months), comeback_at, NO_MONTH)

    level, parent = _hierarchy(rng, size, n)
    # subsidiaries of a group are sizeable companies themselves
    size = np.where(level >= 2, size * 1.6, size)
    merged_into, merge_month = _merges(rng, level, parent, start, churn, months)

    industry = rng.integers(0, len(vocab.INDUSTRIES), n)
    region = rng.integers(0, len(vocab.REGIONS), n)
    currency = rng.choice(np.array(vocab.CURRENCIES), n, p=vocab.CURRENCY_WEIGHTS)
    currency = np.where(np.array(vocab.REGIONS)[region] == "Hong Kong", "HKD", currency)
    customer_type = _customer_types(rng, size, level, industry)
    trend = rng.normal(0.004, 0.018, n) + np.where(customer_type == "strategic", 0.035, 0.0)

    created_days = np.where(
        start == 0,
        cal.start - rng.integers(30, 8 * 365, n) * DAY,
        cal.month_first(start) - rng.integers(5, 40, n) * DAY,
    )
    created_at = office_time(rng, created_days)
    revenue = _revenue_matrix(rng, cal, size, start, churn, comeback, trend, merged_into, merge_month)
    return AccountBook(
        size=size, start=start, churn=churn, comeback=comeback, parent=parent, level=level,
        merged_into=merged_into, merge_month=merge_month, customer_type=customer_type,
        industry=industry, region=region, currency=currency,
        prepaid_share=np.where(rng.random(n) < 0.25, rng.uniform(0.3, 0.6, n), 0.0),
        terms=rng.choice(np.array(vocab.PAYMENT_TERMS), n), late_base=rng.integers(-5, 20, n),
        created_at=cap_before(created_at, cal.end_day), revenue=revenue,
    )


def _hierarchy(rng: np.random.Generator, size: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Group heads (level 1, biased to big accounts), subsidiaries (2) under heads, sub-subsidiaries
    (3) under subsidiaries. A parent always has a lower level: no cycles, depth <= 3."""
    level = np.zeros(n, np.int64)
    parent = np.full(n, -1, np.int64)
    weight = np.sqrt(size) / np.sqrt(size).sum()
    heads = rng.choice(n, max(2, round(0.07 * n)), replace=False, p=weight)
    level[heads] = 1
    free = np.flatnonzero(level == 0)
    subs = free[rng.random(len(free)) < 0.28]
    head_weight = size[heads] / size[heads].sum()
    parent[subs] = rng.choice(heads, len(subs), p=head_weight)
    level[subs] = 2
    free = np.flatnonzero(level == 0)
    if len(subs):
        subsubs = free[rng.random(len(free)) < 0.07]
        parent[subsubs] = rng.choice(subs, len(subsubs))
        level[subsubs] = 3
    return level, parent


def _merges(rng: np.random.Generator, level: np.ndarray, parent: np.ndarray, start: np.ndarray,
            churn: np.ndarray, months: int) -> tuple[np.ndarray, np.ndarray]:
    """A few standalone accounts were absorbed by another account (the survivor) during the history."""
    n = len(level)
    merged_into = np.full(n, -1, np.int64)
    merge_month = np.full(n, NO_MONTH, np.int64)
    has_children = np.zeros(n, bool)
    has_children[parent[parent >= 0]] = True
    candidates = np.flatnonzero((level == 0) & ~has_children & (start < months - 8) & (churn == NO_MONTH))
    merged = candidates[rng.random(len(candidates)) < 0.04]
    survivors = np.setdiff1d(np.flatnonzero((level <= 1) & (churn == NO_MONTH)), merged)
    if len(merged) == 0 or len(survivors) == 0:
        return merged_into, merge_month
    merged_into[merged] = rng.choice(survivors, len(merged))
    merge_month[merged] = rng.integers(start[merged] + 6, months - 1)
    return merged_into, merge_month


def _customer_types(rng: np.random.Generator, size: np.ndarray, level: np.ndarray,
                    industry: np.ndarray) -> np.ndarray:
    n = len(size)
    small = size < np.quantile(size, 0.6)
    standing = np.isin(np.array(vocab.INDUSTRIES)[industry], vocab.STANDING_INDUSTRIES)
    types = np.full(n, "economic", dtype=object)
    types[standing & (rng.random(n) < 0.6)] = "important"
    types[small & ~standing & (rng.random(n) < 0.15)] = "strategic"
    types[(level == 1) & (rng.random(n) < 0.85)] = "group"
    # every type is present, whatever the sample size
    for k, wanted in enumerate(vocab.CUSTOMER_TYPES):
        if not (types == wanted).any():
            pool = np.flatnonzero((level == 1) if wanted == "group" else (level != 1))
            types[pool[k % len(pool)]] = wanted
    return types.astype(str)


def _revenue_matrix(rng: np.random.Generator, cal: ExtractCalendar, size: np.ndarray, start: np.ndarray,
                    churn: np.ndarray, comeback: np.ndarray, trend: np.ndarray,
                    merged_into: np.ndarray, merge_month: np.ndarray) -> np.ndarray:
    """Monthly revenue target: size x growth trend x seasonality x noise, zero outside active spans,
    declining in the half year before a churn, smaller after a comeback."""
    n, months = len(size), cal.months + 1
    m = np.arange(months)[None, :]
    age = np.clip(m - start[:, None], 0, None)
    level = np.clip(np.exp(trend[:, None] * age), 0.25, 6.0)
    to_churn = churn[:, None] - m
    decline = np.where((to_churn > 0) & (to_churn <= 6), 0.45 + 0.09 * to_churn, 1.0)
    after_comeback = np.where(m >= comeback[:, None], 0.6, 1.0)
    calendar_month = (cal.month_starts[:months].astype("datetime64[M]").astype(np.int64) % 12)
    season = np.array(vocab.SEASONALITY)[calendar_month][None, :]
    noise = np.exp(rng.normal(0.0, 0.15, (n, months)))
    active = (m >= start[:, None]) & ((m < churn[:, None]) | (m >= comeback[:, None]))
    active &= rng.random((n, months)) > 0.02  # the odd month without any billing
    revenue = size[:, None] / 12.0 * level * decline * after_comeback * season * noise
    absorbed = m >= merge_month[:, None]
    revenue = np.where(active & ~absorbed, revenue, 0.0)
    # the survivor of a merge takes over most of the absorbed account's business
    merged = np.flatnonzero(merged_into >= 0)
    if len(merged):
        survivor_active = revenue[merged_into[merged]] > 0
        takeover = np.where(absorbed[merged] & survivor_active, size[merged, None] / 12.0 * season * 0.9, 0.0)
        np.add.at(revenue, merged_into[merged], takeover)
    return revenue
