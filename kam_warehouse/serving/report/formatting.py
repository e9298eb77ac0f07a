"""Finance number formats: one kind per figure, rendered as text (HTML) and as Excel number formats.

kinds: count (1,234), money (1,234,567.89 CNY: the reporting currency on every amount), share
(42.15%), index (HHI 0-10,000: 4,138.27), ratio (Gini 0.4622). Changes: shares move in percentage
points (+0.15 pp; the value is the difference x 100), Gini as a signed difference, counts / money /
HHI as a relative change (+3.4%).
"""

from __future__ import annotations

import math
from typing import Literal

Kind = Literal["count", "money", "share", "index", "ratio", "text"]

#: figure -> (kind, label)
FIGURES: dict[str, tuple[Kind, str]] = {
    "active_count": ("count", "Active key accounts"),
    "total_revenue": ("money", "Total revenue"),
    "top_20pct_count": ("count", "Accounts in the top 20%"),
    "top_20pct_share": ("share", "Top-20% share"),
    "top_10_share": ("share", "Top-10 share"),
    "count_for_80pct": ("count", "Accounts for 80% of revenue"),
    "hhi": ("index", "HHI (0-10,000)"),
    "gini": ("ratio", "Gini"),
    "max_share": ("share", "Largest share"),
    "rank": ("count", "Rank"),
    "revenue": ("money", "Revenue"),
    "share": ("share", "Share"),
    "cumulative_share": ("share", "Cumulative share"),
}

LEVEL_LABELS = {"account": "Account", "group": "Group"}
WINDOW_LABELS = {"month": "Month", "t12m": "Trailing 12 months"}


def kind(figure: str) -> Kind:
    return FIGURES.get(figure, ("text", figure))[0]


def label(figure: str) -> str:
    return FIGURES.get(figure, ("text", figure.replace("_", " ").capitalize()))[1]


def missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def excel_format(k: Kind, currency: str) -> str:
    return {
        "count": "#,##0",
        "money": f'#,##0.00 "{currency}"',
        "share": "0.00%",
        "index": "#,##0.00",
        "ratio": "0.0000",
        "text": "@",
    }[k]


#: Python format specs of a value / of a delta (a share's delta is in percentage points: value x 100)
TEXT_SPECS: dict[str, str] = {"count": ",.0f", "money": ",.2f", "share": ".2%", "index": ",.2f", "ratio": ".4f"}
DELTA_SPECS: dict[str, str] = {**TEXT_SPECS, "share": ".2f"}


def _render(v: float, k: Kind, currency: str, *, delta: bool) -> str:
    out = format(v, ("+" if delta and v != 0 else "") + (DELTA_SPECS if delta else TEXT_SPECS)[k])
    if k == "money":
        return f"{out} {currency}"
    return f"{out} pp" if delta and k == "share" else out


def text(value: object, k: Kind, currency: str) -> str:
    """A value as finance reads it: 1,234,567.89 CNY, 42.15%, 0.4622, 1,234."""
    if missing(value):
        return "–"
    if k == "text" or not isinstance(value, int | float):
        return str(value)
    return _render(float(value), k, currency, delta=False)


# --- differences: delta (closed -> current) and MoM / YoY change -------------------------------------

def delta_value(k: Kind, delta: float) -> float:
    """The value a delta cell holds: percentage points for shares, else the plain difference."""
    return delta * 100 if k == "share" else delta


def delta_excel_format(k: Kind, currency: str) -> str:
    return {
        "count": "+#,##0;-#,##0;0",
        "money": f'+#,##0.00 "{currency}";-#,##0.00 "{currency}";0.00 "{currency}"',
        "share": '+0.00 "pp";-0.00 "pp";0.00 "pp"',
        "index": "+#,##0.00;-#,##0.00;0.00",
        "ratio": "+0.0000;-0.0000;0.0000",
        "text": "@",
    }[k]


def delta_text(value: object, k: Kind, currency: str) -> str:
    """A delta cell's value (from delta_value) as text: +0.15 pp, -1,234.00 CNY, +12 (no sign for 0)."""
    if missing(value):
        return "–"
    if k == "text" or not isinstance(value, int | float):
        return str(value)
    return _render(float(value), k, currency, delta=True)


PCT_CHANGE_FORMAT = "+0.00%;-0.00%;0.00%"


def pct_text(value: object) -> str:
    if missing(value):
        return "–"
    return "0.00%" if float(value) == 0 else f"{float(value):+.2%}"  # type: ignore[arg-type]


def change(k: Kind, new: object, old: object) -> tuple[float | None, bool]:
    """MoM / YoY change of a figure: (value, is_relative). Shares: pp; Gini: difference; others: relative."""
    if missing(new) or missing(old):
        return None, k not in ("share", "ratio")
    n, o = float(new), float(old)  # type: ignore[arg-type]
    if k in ("share", "ratio"):
        return _clean(delta_value(k, n - o)), False
    return (_clean((n - o) / abs(o)) if o else None), True


def _clean(value: float) -> float:
    """Float noise (1e-16 from another summation order) shown as no change, not as -0.0000."""
    return 0.0 if abs(value) < 1e-9 else value
