"""What the concentration report shows, read from the serving warehouse (read-only).

One code path for open and closed months, from two sources of the same shape:
- open month: the current marts (mart_finance_concentration_figures, ..._entities);
- closed month: what the current close version froze (mart_finance_concentration_closed_figures,
  ..._closed_entities, version metadata in mart_finance_close_versions).
So every section of a closed month's report (summary with MoM / YoY, by segment, top accounts, top
groups, Lorenz, Pareto) is the frozen one; only the restatements (and the pulled-at time) are current.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd

from kam_warehouse.core.warehouse import Connection, WarehouseTarget, as_warehouse, connect
from kam_warehouse.serving.errors import ReportError

#: every metric of mart_revenue_concentration_monthly, in its column order (CSV, BI shape)
METRICS: tuple[str, ...] = ("active_count", "total_revenue", "top_20pct_count", "top_20pct_share", "top_10_share",
                            "count_for_80pct", "hhi", "gini", "max_share")
#: the headline figures the report shows, in report order
FIGURES: tuple[str, ...] = ("active_count", "total_revenue", "top_20pct_share", "top_10_share", "count_for_80pct",
                            "hhi", "gini")
LEVELS: tuple[str, ...] = ("account", "group")
WINDOWS: tuple[str, ...] = ("month", "t12m")
TOP_N = 20
REQUIRED: tuple[str, ...] = ("mart_revenue_concentration_monthly", "mart_finance_concentration_figures",
                             "mart_finance_concentration_entities")
ENTITY_COLUMNS = ("level, time_window AS \"window\", rank_desc AS rank, entity_id, entity_name, segment, "
                  "customer_type, tier, revenue, share, cumulative_share, point, cumulative_entity_share, "
                  "cumulative_revenue_share")


@dataclass(frozen=True)
class CloseInfo:
    version: int
    closed_at: datetime
    as_of: date
    closed_by: str
    run_id: str
    reason: str | None


@dataclass(frozen=True)
class ReportData:
    month: date
    close: CloseInfo | None
    as_of: date | None  # data as of: frozen at close, else the served build's as-of date
    figures: pd.DataFrame  # long: revenue_month, figure_set, level, window, segment, metric, value (month, m-1, m-12)
    entities: pd.DataFrame  # ENTITY_COLUMNS of the month (both levels and windows)
    restatements: pd.DataFrame  # figure_set, level, window, segment, metric, closed_value, current_value, delta,
    #                             delta_pct, cause (closed months only)
    moved: pd.DataFrame  # level, window, entity_id, entity_name, closed_rank, current_rank, closed_revenue,
    #                      current_revenue, delta: entities whose revenue or rank changed since the close
    build_id: str | None
    pulled_at: datetime

    @property
    def closed(self) -> bool:
        return self.close is not None

    @property
    def partial(self) -> bool:
        """The month is not complete in the data (the as-of month of an open report)."""
        last = self.month.replace(day=calendar.monthrange(self.month.year, self.month.month)[1])
        return self.close is None and (self.as_of is None or self.as_of < last)

    def wide(self, figure_set: str = "overall", month: date | None = None) -> pd.DataFrame:
        """The figures of `month` (default: the report month) in the mart's wide shape."""
        return wide(self.figures, figure_set, month or self.month)

    @property
    def summary(self) -> pd.DataFrame:
        """revenue_month, level, window, METRICS: one row per level × window."""
        return self.wide().drop(columns="segment")

    @property
    def by_segment(self) -> pd.DataFrame:
        return self.wide("segment").drop(columns="revenue_month")

    def top(self, level: str, window: str = "month", n: int = TOP_N) -> pd.DataFrame:
        e = self.entities
        return e[(e.level == level) & (e.window == window)].sort_values("rank").head(n).reset_index(drop=True)

    def lorenz(self, window: str = "month") -> pd.DataFrame:
        e = self.entities
        return e[e.window == window].sort_values(["level", "point"]).reset_index(drop=True)


def wide(long: pd.DataFrame, figure_set: str, month: date) -> pd.DataFrame:
    rows = long[(long.figure_set == figure_set) & (long.revenue_month == month)]
    if rows.empty:
        return pd.DataFrame(columns=["revenue_month", "level", "window", "segment", *METRICS])
    out = rows.pivot_table(index=["level", "window", "segment"], columns="metric", values="value",
                           aggfunc="first").reset_index()
    out.columns.name = None
    out.insert(0, "revenue_month", month)
    for col in METRICS:
        if col not in out:
            out[col] = float("nan")
    return out[["revenue_month", "level", "window", "segment", *METRICS]].sort_values(
        ["level", "window", "segment"], ignore_index=True)


def load(serving: WarehouseTarget, month: date, *, pulled_at: datetime | None = None) -> ReportData:
    """Everything the report of `month` shows (see module docstring), read from the serving warehouse
    (serving.duckdb, or the marts schema of a server warehouse's serving database)."""
    from kam_warehouse.serving.close import comparison_months

    warehouse = as_warehouse(serving)
    serving_db = warehouse.describe()
    if not warehouse.exists():
        raise ReportError(f"serving warehouse {serving_db} does not exist; run `kam run` (or `kam publish`) first")
    month = month.replace(day=1)
    with connect(warehouse, read_only=True) as con:
        tables = {name for name, _kind in con.relations("marts")}
        missing = [t for t in REQUIRED if t not in tables]
        if missing:
            raise ReportError(f"{serving_db} has no marts.{', marts.'.join(missing)}: not a KAM serving warehouse "
                              "of this release; run `kam run` to publish one")
        close = _close_info(con, month) if "mart_finance_close_versions" in tables else None
        if close is None:
            figures = _df(con, "SELECT revenue_month, figure_set, level, time_window AS \"window\", segment, metric, "
                          "value FROM marts.mart_finance_concentration_figures WHERE revenue_month IN (?, ?, ?)",
                          [month, *comparison_months(month)])
            entities = _df(con, f"SELECT {ENTITY_COLUMNS} FROM marts.mart_finance_concentration_entities "
                           "WHERE revenue_month = ?", [month])
            restatements = moved = pd.DataFrame()
        else:
            figures = _df(con, "SELECT figure_month AS revenue_month, figure_set, level, time_window AS \"window\", "
                          "segment, metric, value FROM marts.mart_finance_concentration_closed_figures "
                          "WHERE closed_month = ? AND close_version = ?", [month, close.version])
            entities = _df(con, f"SELECT {ENTITY_COLUMNS} FROM marts.mart_finance_concentration_closed_entities "
                           "WHERE closed_month = ? AND close_version = ?", [month, close.version])
            restatements = _df(con, "SELECT figure_set, level, time_window AS \"window\", segment, metric, "
                               "closed_value, current_value, delta, delta_pct, cause "
                               "FROM marts.mart_finance_concentration_restatements WHERE closed_month = ? "
                               "ORDER BY figure_set, level, time_window, segment, metric", [month]) \
                if "mart_finance_concentration_restatements" in tables else pd.DataFrame()
            moved = _df(con, "SELECT level, time_window AS \"window\", entity_id, entity_name, closed_rank, current_rank, "
                        "closed_revenue, current_revenue, delta FROM marts.mart_finance_concentration_entity_restatements "
                        "WHERE closed_month = ? AND (closed_rank <= ? OR current_rank <= ?) "
                        "ORDER BY level, time_window, coalesce(current_rank, 1000000000), entity_id",
                        [month, TOP_N, TOP_N]) \
                if "mart_finance_concentration_entity_restatements" in tables else pd.DataFrame()
        info = con.execute("SELECT run_id, as_of_date FROM marts._publish_info").fetchone() \
            if "_publish_info" in tables else None
    figures["revenue_month"] = pd.to_datetime(figures["revenue_month"]).dt.date
    if not (figures.revenue_month == month).any():
        raise ReportError(f"{serving_db} has no concentration figures for {month:%Y-%m}")
    return ReportData(
        month=month, close=close, as_of=close.as_of if close else (info[1] if info else None),
        figures=figures, entities=entities, restatements=restatements, moved=moved,
        build_id=info[0] if info else None,
        pulled_at=pulled_at or datetime.now(UTC).replace(tzinfo=None, microsecond=0),
    )


def _df(con: Connection, sql: str, params: list[object]) -> pd.DataFrame:
    """The rows as a DataFrame, exact decimals as floats on every engine (as DuckDB's own df() gives them)."""
    df = con.fetch_df(sql, params)
    for column in df.columns:
        values = df[column].dropna()
        if df[column].dtype == object and not values.empty and isinstance(values.iloc[0], Decimal):
            df[column] = df[column].astype(float)
    return df


def _close_info(con: Connection, month: date) -> CloseInfo | None:
    row = con.execute(
        "SELECT close_version, closed_at, as_of_date, closed_by, closed_by_run_id, close_reason "
        "FROM marts.mart_finance_close_versions WHERE closed_month = ? AND is_current "
        "ORDER BY close_version DESC LIMIT 1", [month]).fetchone()
    if row is None:
        return None
    return CloseInfo(version=int(row[0]), closed_at=row[1], as_of=row[2], closed_by=row[3] or "unknown",
                     run_id=row[4], reason=row[5])
