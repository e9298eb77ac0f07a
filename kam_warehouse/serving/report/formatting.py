"""Finance number formats, shared by the HTML page (strings) and the workbook (Excel number formats)."""

from __future__ import annotations

import math

#: figure -> (Excel number format, label)
FIGURE_FORMATS: dict[str, tuple[str, str]] = {
    "active_count": ("#,##0", "Active key accounts"),
    "total_revenue": ("#,##0.00", "Total revenue"),
    "top_20pct_share": ("0.0%", "Top-20% share"),
    "top_10_share": ("0.0%", "Top-10 share"),
    "count_for_80pct": ("#,##0", "Accounts for 80% of revenue"),
    "hhi": ("#,##0", "HHI (0-10,000)"),
    "gini": ("0.000", "Gini"),
    "top_20pct_count": ("#,##0", "Top-20% accounts"),
    "max_share": ("0.0%", "Largest share"),
    "rank": ("#,##0", "Rank"),
    "revenue": ("#,##0.00", "Revenue"),
    "share": ("0.0%", "Share"),
    "cumulative_share": ("0.0%", "Cumulative share"),
    "closed_value": ("#,##0.00##", "Closed value"),
    "current_value": ("#,##0.00##", "Current value"),
    "delta": ("#,##0.00##", "Delta"),
}


def fmt(value: object, figure: str, currency: str = "") -> str:
    """A value as finance reads it: 1,234,567.89 CNY, 42.0%, 0.412, 1,234."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if not isinstance(value, int | float):
        return str(value)
    excel = FIGURE_FORMATS.get(figure, ("#,##0.00", ""))[0]
    if excel.endswith("%"):
        return f"{value:.1%}"
    if excel == "0.000":
        return f"{value:.3f}"
    if excel == "#,##0":
        return f"{value:,.0f}"
    text = f"{value:,.2f}"
    return f"{text} {currency}".strip() if figure in ("total_revenue", "revenue") else text


def label(figure: str) -> str:
    return FIGURE_FORMATS.get(figure, ("", figure.replace("_", " ")))[1]
