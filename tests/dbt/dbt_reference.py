"""An independent plain-Python computation of the marts' definitions (kam-domain.md "Exact
definitions"), used to check what dbt built. Deliberately written as straightforward loops, not SQL."""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

Month = dt.date
Row = dict[str, Any]


def month_of(d: dt.date) -> Month:
    return d.replace(day=1)


def add_months(m: Month, n: int) -> Month:
    idx = m.year * 12 + m.month - 1 + n
    return dt.date(idx // 12, idx % 12 + 1, 1)


def months_between(first: Month, last: Month) -> list[Month]:
    out, m = [], first
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


def current_versions(rows: list[Row], key: tuple[str, ...]) -> list[Row]:
    """Latest updated_at per key; ties go to the later row (higher line number)."""
    best: dict[tuple, tuple[int, Row]] = {}
    for i, r in enumerate(rows):
        k = tuple(r[c] for c in key)
        if k not in best or str(r.get("updated_at", "")) >= str(best[k][1].get("updated_at", "")):
            best[k] = (i, r)
    return [r for _, r in best.values()]


def fx_rate(rates: list[Row], currency: str, on: dt.date, reporting: str = "CNY") -> float | None:
    if currency == reporting:
        return 1.0
    eligible = [r for r in rates if r["currency"] == currency and r["rate_date"] <= on]
    return max(eligible, key=lambda r: r["rate_date"])["rate_to_reporting"] if eligible else None


def spread(amount: float, start: dt.date, end: dt.date) -> dict[Month, float]:
    """Month-weight rule: weight = days of the period in the month / days in the month."""
    weights: dict[Month, float] = {}
    for m in months_between(month_of(start), month_of(end)):
        days_in_month = calendar.monthrange(m.year, m.month)[1]
        m_end = m.replace(day=days_in_month)
        days = (min(end, m_end) - max(start, m)).days + 1
        weights[m] = days / days_in_month
    total = sum(weights.values())
    return {m: amount * w / total for m, w in weights.items()}


def follow(start: str, pointer: dict[str, str | None], limit: int = 20) -> str:
    """End of a pointer chain; on a loop, the smallest id on the loop."""
    path = [start]
    while (nxt := pointer.get(path[-1])) is not None and nxt in pointer and len(path) <= limit:
        if nxt in path:
            return min(path[path.index(nxt):])
        path.append(nxt)
    return path[-1]


@dataclass
class Book:
    revenue: dict[tuple[str, Month], float]  # R(account survivor, month), months with events only
    survivor: dict[str, str]
    group: dict[str, str]
    as_of_month: Month


def recognise(tables: dict[str, list[Row]], as_of: dt.date) -> Book:
    accounts = current_versions(tables["crm__accounts"], ("account_id",))
    merged = {a["account_id"]: a["merged_into_account_id"] for a in accounts}
    survivor = {a: follow(a, merged) for a in merged}
    parent_of = {}
    for a in accounts:
        if survivor[a["account_id"]] != a["account_id"]:
            continue
        p = a["parent_account_id"]
        p = survivor.get(p, p) if p else None
        parent_of[a["account_id"]] = None if p == a["account_id"] else p
    group = {a: follow(survivor[a], parent_of) for a in survivor}

    invoices = {i["invoice_id"]: i for i in current_versions(tables["billing__invoices"], ("invoice_id",))}
    rates = tables["billing__fx_rates"]
    as_of_month = month_of(as_of)
    revenue: dict[tuple[str, Month], float] = defaultdict(float)
    for line in current_versions(tables["billing__invoice_lines"], ("invoice_line_id",)):
        inv = invoices[line["invoice_id"]]
        if inv["status"] == "void" or inv["invoice_date"] > as_of:
            continue
        amount = line["amount"] * fx_rate(rates, inv["currency"], inv["invoice_date"])
        for m, v in spread(amount, line["service_start"], line["service_end"]).items():
            if m <= as_of_month:
                revenue[(survivor[inv["account_id"]], m)] += v
    for cn in current_versions(tables["billing__credit_notes"], ("credit_note_id",)):
        if cn["credit_date"] <= as_of:
            rate = fx_rate(rates, cn["currency"], cn["credit_date"])
            revenue[(survivor[cn["account_id"]], month_of(cn["credit_date"]))] -= cn["amount"] * rate
    return Book(dict(revenue), survivor, group, as_of_month)


def roll_up(revenue: dict[tuple[str, Month], float], to: dict[str, str]) -> dict[tuple[str, Month], float]:
    out: dict[tuple[str, Month], float] = defaultdict(float)
    for (a, m), v in revenue.items():
        out[(to.get(a, a), m)] += v
    return dict(out)


@dataclass
class SpineRow:
    revenue: float
    movement: str
    revenue_t12m: float


def spine(revenue: dict[tuple[str, Month], float], as_of_month: Month) -> dict[tuple[str, Month], SpineRow]:
    """Continuous rows from each entity's first month with revenue > 0 to the as-of month."""
    out: dict[tuple[str, Month], SpineRow] = {}
    for e in sorted({e for e, _ in revenue}):
        positive = [m for (x, m), v in revenue.items() if x == e and v > 0]
        if not positive:
            continue
        months = months_between(min(positive), as_of_month)
        values = [revenue.get((e, m), 0.0) for m in months]
        for i, (m, v) in enumerate(zip(months, values, strict=True)):
            prev = values[i - 1] if i else None
            if i == 0:
                mv = "new"
            elif prev > 0 and v <= 0:
                mv = "churn"
            elif prev <= 0 and v > 0:
                mv = "reactivation"
            elif prev > 0 and v > prev + 1e-9:
                mv = "expansion"
            elif prev > 0 and v < prev - 1e-9:
                mv = "contraction"
            elif prev > 0:
                mv = "flat"
            else:
                mv = "inactive"
            out[(e, m)] = SpineRow(v, mv, sum(values[max(0, i - 11): i + 1]))
    return out


def concentration(values: list[float]) -> dict[str, float] | None:
    """Concentration figures over the active (> 0) values; None when none is active."""
    active = sorted((v for v in values if v > 0), reverse=True)
    n = len(active)
    if not n:
        return None
    total = sum(active)
    running, count_80 = 0.0, n
    for k, v in enumerate(active, 1):
        running += v
        if running >= 0.8 * total - 1e-9:
            count_80 = k
            break
    ascending = active[::-1]
    gini = 0.0 if n == 1 else sum((2 * i - n - 1) * x for i, x in enumerate(ascending, 1)) / (n * total)
    return {
        "active_count": n,
        "total_revenue": total,
        "top_20pct_share": sum(active[: math.ceil(0.2 * n)]) / total,
        "top_10_share": sum(active[:10]) / total,
        "count_for_80pct": count_80,
        "hhi": sum((100 * v / total) ** 2 for v in active),
        "gini": gini,
    }


def retention(rows: dict[tuple[str, Month], SpineRow], m: Month) -> dict[str, float | None]:
    prior = add_months(m, -12)
    base = {a: r.revenue_t12m for (a, mm), r in rows.items() if mm == prior and r.revenue_t12m > 0}
    if not base:
        return {"nrr_t12m": None, "grr_t12m": None, "logo_retention_t12m": None}
    now = {a: rows[(a, m)].revenue_t12m if (a, m) in rows else 0.0 for a in base}
    denominator = sum(base.values())
    return {
        "nrr_t12m": sum(now.values()) / denominator,
        "grr_t12m": sum(min(now[a], base[a]) for a in base) / denominator,
        "logo_retention_t12m": sum(1 for a in base if now[a] > 0) / len(base),
    }
