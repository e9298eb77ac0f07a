"""What the concentration report shows, read from the serving warehouse (read-only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from kam_warehouse.serving.errors import ReportError

#: the figures of mart_revenue_concentration_monthly, in report order
FIGURES: tuple[str, ...] = ("active_count", "total_revenue", "top_20pct_share", "top_10_share", "count_for_80pct",
                            "hhi", "gini")
KEYS: tuple[str, ...] = ("level", "window")
TOP_N = 20


@dataclass(frozen=True)
class ReportData:
    month: date
    closed: bool
    summary: pd.DataFrame  # revenue_month, level, window, FIGURES (closed figures when the month is closed)
    by_segment: pd.DataFrame  # level, window, segment, FIGURES
    top_accounts: pd.DataFrame  # rank, account_id, account_name, segment, customer_type, tier, revenue, share, cum
    restatements: pd.DataFrame
    lorenz: pd.DataFrame  # level, point, cumulative_entity_share, cumulative_revenue_share (window = month)
    pareto: pd.DataFrame  # entity_id, name, revenue, cumulative_share (account level, month)
    run_id: str | None


def load(serving_db: Path, month: date) -> ReportData:
    if not serving_db.exists():
        raise ReportError(f"serving warehouse {serving_db} does not exist; run `kam run` (or `kam publish`) first")
    with duckdb.connect(str(serving_db), read_only=True) as con:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall()}
        if "mart_revenue_concentration_monthly" not in tables:
            raise ReportError(f"{serving_db} has no marts.mart_revenue_concentration_monthly: not a KAM serving warehouse")
        closed = _closed(con, month) if "mart_finance_concentration_closed" in tables else pd.DataFrame()
        if closed.empty:
            summary = _df(con, f"SELECT revenue_month, level, \"window\", {', '.join(FIGURES)} "
                          "FROM marts.mart_revenue_concentration_monthly WHERE revenue_month = ? ORDER BY 2, 3", month)
            by_segment = _df(con, f"SELECT level, \"window\", segment, {', '.join(FIGURES)} FROM "
                             "marts.mart_revenue_concentration_by_segment WHERE revenue_month = ? ORDER BY 1, 2, 3",
                             month) if "mart_revenue_concentration_by_segment" in tables else pd.DataFrame()
        else:
            summary = _wide(closed[closed.figure_set == "overall"], month).drop(columns="segment")
            by_segment = _wide(closed[closed.figure_set == "segment"], month).drop(columns="revenue_month")
            by_segment = by_segment[["level", "window", "segment", *FIGURES]]
        if summary.empty:
            raise ReportError(f"{serving_db} has no concentration figures for {month:%Y-%m}")
        restatements = _df(con, "SELECT figure_set, level, time_window AS \"window\", segment, metric, closed_value, "
                           "current_value, delta, cause FROM marts.mart_finance_concentration_restatements "
                           "WHERE closed_month = ? ORDER BY ALL", month) \
            if not closed.empty and "mart_finance_concentration_restatements" in tables else pd.DataFrame()
        lorenz = _df(con, "SELECT level, point, cumulative_entity_share, cumulative_revenue_share FROM "
                     "marts.mart_revenue_lorenz WHERE revenue_month = ? AND \"window\" = 'month' ORDER BY 1, 2", month)
        top = _top_accounts(con, month, "dim_account" in tables)
        run_id = con.execute("SELECT run_id FROM marts._publish_info").fetchone() if "_publish_info" in tables else None
    pareto = top[["account_id", "account_name", "revenue", "cumulative_share"]]
    return ReportData(month=month, closed=not closed.empty, summary=summary, by_segment=by_segment,
                      top_accounts=top, restatements=restatements, lorenz=lorenz, pareto=pareto,
                      run_id=run_id[0] if run_id else None)


def _df(con: duckdb.DuckDBPyConnection, sql: str, month: date) -> pd.DataFrame:
    return con.execute(sql, [month]).df()


def _closed(con: duckdb.DuckDBPyConnection, month: date) -> pd.DataFrame:
    return _df(con, "SELECT figure_set, level, time_window AS \"window\", segment, metric, value FROM "
               "marts.mart_finance_concentration_closed WHERE closed_month = ?", month)


def _wide(long: pd.DataFrame, month: date) -> pd.DataFrame:
    wide = long.pivot_table(index=["level", "window", "segment"], columns="metric", values="value").reset_index()
    wide.insert(0, "revenue_month", month)
    for col in FIGURES:
        if col not in wide:
            wide[col] = float("nan")
    return wide[["revenue_month", "level", "window", "segment", *FIGURES]].sort_values(["level", "window", "segment"],
                                                                                       ignore_index=True)


def _top_accounts(con: duckdb.DuckDBPyConnection, month: date, with_dim: bool) -> pd.DataFrame:
    names = ("d.account_name, d.segment, d.customer_type, d.tier" if with_dim
             else "l.entity_id AS account_name, NULL AS segment, NULL AS customer_type, NULL AS tier")
    join = "LEFT JOIN marts.dim_account d ON d.account_id = l.entity_id" if with_dim else ""
    return _df(con, f"""
        SELECT row_number() OVER (ORDER BY l.revenue DESC, l.entity_id) AS rank, l.entity_id AS account_id, {names},
               l.revenue, l.revenue / sum(l.revenue) OVER () AS share,
               sum(l.revenue) OVER (ORDER BY l.revenue DESC, l.entity_id) / sum(l.revenue) OVER () AS cumulative_share
        FROM marts.mart_revenue_lorenz l {join}
        WHERE l.revenue_month = ? AND l.level = 'account' AND l."window" = 'month'
        ORDER BY rank LIMIT {TOP_N}""", month)
