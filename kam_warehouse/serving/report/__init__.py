"""Finance's month-end key-account revenue concentration report (xlsx, html, csv) from the serving warehouse.

Reads the serving warehouse read-only. When the month is closed every section (summary with MoM / YoY,
by segment, top accounts and groups, Lorenz and Pareto charts) is what the close froze; only the
Restatements sheet/section (closed vs current) and the pulled-at time change when later data arrives.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from kam_warehouse.core.warehouse import WarehouseTarget
from kam_warehouse.serving.errors import ReportError
from kam_warehouse.serving.report.data import load

log = logging.getLogger(__name__)

FORMATS: frozenset[str] = frozenset({"xlsx", "html", "csv"})


def concentration_report(serving_db: WarehouseTarget, month: date, out_dir: Path, formats: set[str],
                         *, currency: str = "CNY") -> dict[str, Path]:
    """Write `kam_concentration_<YYYY-MM>.<format>` for each format into `out_dir`; return format -> path.
    `serving_db` is the serving warehouse (Settings.serving) or the path of a serving.duckdb."""
    unknown = set(formats) - FORMATS
    if unknown or not formats:
        raise ReportError(f"unknown report format(s) {sorted(unknown)}; choose from {sorted(FORMATS)}")
    data = load(serving_db, month.replace(day=1))
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"kam_concentration_{month:%Y-%m}"
    written: dict[str, Path] = {}
    if "xlsx" in formats:
        from kam_warehouse.serving.report.xlsx import write_xlsx

        written["xlsx"] = write_xlsx(data, stem.with_suffix(".xlsx"), currency)
    if "html" in formats:
        from kam_warehouse.serving.report.html import write_html

        written["html"] = write_html(data, stem.with_suffix(".html"), currency)
    if "csv" in formats:
        from kam_warehouse.serving.report.csv_out import write_csv

        written["csv"] = write_csv(data, stem.with_suffix(".csv"), currency)
    log.info("concentration report %s written: %s", f"{month:%Y-%m}", ", ".join(map(str, written.values())))
    return written
