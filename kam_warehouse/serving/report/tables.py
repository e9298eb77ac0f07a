"""The report's sections as tables of cells, built once and rendered by the workbook (value + Excel
number format) and the HTML page (text): both show the same rows, labels and formats."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from kam_warehouse.serving.report import formatting as f
from kam_warehouse.serving.report.data import FIGURES, LEVELS, TOP_N, WINDOWS, ReportData


@dataclass(frozen=True)
class Cell:
    value: object  # what the workbook stores: a number, a string, or None (empty)
    text: str  # what the HTML shows
    excel: str | None = None  # Excel number format of a number

    @property
    def numeric(self) -> bool:
        return isinstance(self.value, int | float) and not isinstance(self.value, bool)


@dataclass(frozen=True)
class Table:
    key: str  # section id (HTML id, sheet identity)
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    note: str | None = None
    wrap: frozenset[int] = field(default_factory=frozenset)  # column indexes holding long prose


def _plain(value: object) -> object:
    """numpy scalars -> Python numbers; NaN / NA -> None."""
    if value is None:
        return None
    try:
        if pd.isna(value):  # type: ignore[call-overload]
            return None
    except (TypeError, ValueError):
        pass
    return value.item() if hasattr(value, "item") else value


def txt(value: object) -> Cell:
    v = _plain(value)
    return Cell(None if v is None else str(v), "–" if v is None else str(v))


def num(value: object, kind: f.Kind, currency: str) -> Cell:
    v = _plain(value)
    return Cell(v, f.text(v, kind, currency), f.excel_format(kind, currency))


def delta(value: object, kind: f.Kind, currency: str) -> Cell:
    v = _plain(value)
    shown = None if v is None else f.delta_value(kind, float(v))  # type: ignore[arg-type]
    return Cell(shown, f.delta_text(shown, kind, currency), f.delta_excel_format(kind, currency))


def pct_change(value: object) -> Cell:
    v = _plain(value)
    return Cell(v, f.pct_text(v), f.PCT_CHANGE_FORMAT)


def _change(kind: f.Kind, new: object, old: object, currency: str) -> Cell:
    value, relative = f.change(kind, _plain(new), _plain(old))
    if relative:
        return pct_change(value)
    return Cell(value, f.delta_text(value, kind, currency), f.delta_excel_format(kind, currency))


# --- header ----------------------------------------------------------------------------------------

def title(data: ReportData) -> str:
    return f"Key-account revenue concentration — {data.month:%Y-%m}"


def status_line(data: ReportData) -> str:
    c = data.close
    if c is None:
        return f"Status: open: current figures (data as of {data.as_of or 'unknown'})"
    line = (f"Status: closed v{c.version} at {c.closed_at:%Y-%m-%d %H:%M} UTC by {c.closed_by}, "
            f"data as of {c.as_of}")
    return f"{line}; re-close reason: {c.reason}" if c.reason else line


def header_lines(data: ReportData, currency: str) -> list[str]:
    """Title, status, currency and (when it applies) the partial-month flag: identical on every pull of a
    closed month. The pulled-at line is separate (pulled_line)."""
    lines = [title(data), status_line(data), f"All amounts in {currency} (reporting currency)."]
    if data.partial:
        lines.append(f"PARTIAL MONTH: data only through {data.as_of or 'an unknown day'}; "
                     "the figures will change as the rest of the month is loaded.")
    return lines


def pulled_line(data: ReportData) -> str:
    return f"Pulled at {data.pulled_at:%Y-%m-%d %H:%M:%S} UTC"


def footer_line(data: ReportData) -> str:
    return f"Build {data.build_id or 'unknown'} · {pulled_line(data)}"


DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("Active", "An account (or group) with revenue > 0 in the window; only active ones are counted."),
    ("Month / t12m", "Month: the calendar month. t12m: trailing twelve months, the month and the 11 before it."),
    ("Group level", "Subsidiaries rolled up to their parent group (named after the group's head account)."),
    ("Top-20% share", "Share of revenue of the top 20% of active accounts (k = ceil(0.2 × n), by revenue)."),
    ("Top-10 share", "Share of revenue of the 10 largest accounts."),
    ("Accounts for 80%", "The smallest number of top accounts whose revenue reaches 80% of the total."),
    ("HHI", "Herfindahl–Hirschman index: sum of squared percentage revenue shares, 0 (spread) to 10,000 "
            "(one account); above 2,500 is highly concentrated."),
    ("Gini", "0 = revenue spread evenly over the active accounts, 1 = all revenue in one account."),
    ("MoM / YoY", "Change against the month before / the same month a year before: shares in percentage "
                  "points (pp), Gini as a difference, other figures as a relative change."),
)


def definitions() -> Table:
    return Table("definitions", "Definitions", ["Term", "Definition"],
                 [[txt(term), txt(text)] for term, text in DEFINITIONS])


# --- sections --------------------------------------------------------------------------------------

def _month_label(m: date) -> str:
    return f"{m:%Y-%m}"


def summary(data: ReportData, currency: str) -> Table:
    from kam_warehouse.serving.close import comparison_months

    previous, year_before = comparison_months(data.month)
    now, prev, last_year = (data.wide(month=m).set_index(["level", "window"])
                            for m in (data.month, previous, year_before))
    rows: list[list[Cell]] = []
    for level in LEVELS:
        for window in WINDOWS:
            if (level, window) not in now.index:
                continue
            for figure in FIGURES:
                k = f.kind(figure)
                value = now.at[(level, window), figure]
                p = prev.at[(level, window), figure] if (level, window) in prev.index else None
                y = last_year.at[(level, window), figure] if (level, window) in last_year.index else None
                rows.append([txt(f.LEVEL_LABELS[level]), txt(f.WINDOW_LABELS[window]), txt(f.label(figure)),
                             num(value, k, currency), num(p, k, currency), _change(k, value, p, currency),
                             num(y, k, currency), _change(k, value, y, currency)])
    columns = ["Level", "Window", "Figure", _month_label(data.month), f"Previous month ({_month_label(previous)})",
               "MoM", f"Same month last year ({_month_label(year_before)})", "YoY"]
    return Table("summary", "Summary", columns, rows)


def top_entities(data: ReportData, level: str, currency: str) -> Table:
    top = data.top(level)
    who = "Account" if level == "account" else "Group (head account)"
    columns = ["Rank", f"{'Account' if level == 'account' else 'Group'} ID", who, "Segment", "Customer type", "Tier",
               "Revenue", "Share", "Cumulative share"]
    rows = [[num(r.rank, "count", currency), txt(r.entity_id), txt(r.entity_name), txt(r.segment),
             txt(r.customer_type), txt(r.tier), num(r.revenue, "money", currency), num(r.share, "share", currency),
             num(r.cumulative_share, "share", currency)] for r in top.itertuples(index=False)]
    plural = "accounts" if level == "account" else "groups"
    note = f"The {len(rows)} largest {plural} by revenue in {data.month:%Y-%m} (month window)."
    if not rows and data.closed:
        note = (f"Not frozen by close v{data.close.version} (closed by an earlier release): re-close with "  # type: ignore[union-attr]
                "`kam close --force --reason ...` to freeze the top lists and charts.")
    return Table(f"top_{plural}", f"Top {plural}", columns, rows, note=note)


def by_segment(data: ReportData, currency: str) -> Table:
    seg = data.by_segment
    columns = ["Level", "Window", "Segment", *(f.label(x) for x in FIGURES)]
    rows = [[txt(f.LEVEL_LABELS.get(r["level"], r["level"])), txt(f.WINDOW_LABELS.get(r["window"], r["window"])),
             txt(r["segment"]), *(num(r[x], f.kind(x), currency) for x in FIGURES)]
            for _, r in seg.iterrows()]
    return Table("by_segment", "By segment", columns, rows)


def restatements(data: ReportData, currency: str) -> Table:
    columns = ["Level", "Window", "Segment", "Figure", "Closed", "Current", "Delta", "Delta %", "Cause"]
    if data.close is None:
        return Table("restatements", "Restatements", columns, [],
                     note="The month is not closed: there is nothing to restate.")
    rows = []
    for _, r in data.restatements.iterrows():
        k = f.kind(r["metric"])
        segment = "all" if r["figure_set"] == "overall" else r["segment"]
        rows.append([txt(f.LEVEL_LABELS.get(r["level"], r["level"])),
                     txt(f.WINDOW_LABELS.get(r["window"], r["window"])), txt(segment), txt(f.label(r["metric"])),
                     num(r["closed_value"], k, currency), num(r["current_value"], k, currency),
                     delta(r["delta"], k, currency), pct_change(r["delta_pct"]), txt(r["cause"])])
    note = (f"Closed v{data.close.version} figures against the current data: {len(rows)} figure(s) changed since "
            "the close." if rows else "None: every closed figure still holds on the current data.")
    return Table("restatements", "Restatements", columns, rows, note=note, wrap=frozenset({8}))


def moved_entities(data: ReportData, currency: str) -> Table:
    """Accounts and groups of the month window whose revenue or rank changed since the close (a late
    invoice that makes another account the top account shows here by name)."""
    columns = ["Level", "ID", "Name", "Closed rank", "Current rank", "Closed revenue", "Current revenue", "Delta"]
    moved = data.moved
    rows = [] if moved.empty else [
        [txt(f.LEVEL_LABELS.get(r.level, r.level)), txt(r.entity_id), txt(r.entity_name),
         num(r.closed_rank, "count", currency), num(r.current_rank, "count", currency),
         num(r.closed_revenue, "money", currency), num(r.current_revenue, "money", currency),
         delta(r.delta, "money", currency)]
        for r in moved[moved.window == "month"].itertuples(index=False)]
    note = (f"Accounts and groups (top {TOP_N}, month window) whose revenue or rank changed since the close."
            if rows else "No account or group of the top lists changed since the close.")
    return Table("moved_entities", "Accounts and groups that moved", columns, rows, note=note)


def sections(data: ReportData, currency: str) -> list[Table]:
    """Every table of the report, in report order (Restatements last)."""
    return [summary(data, currency), top_entities(data, "account", currency), top_entities(data, "group", currency),
            by_segment(data, currency), restatements(data, currency)]
