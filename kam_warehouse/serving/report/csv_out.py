"""The summary figures as CSV: the columns of mart_revenue_concentration_monthly at full precision
(shortest round-trip repr, no rounding), then the report's status columns. Strings go through the
formula-injection rule (cells.csv_text)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from kam_warehouse.serving.report.cells import csv_text
from kam_warehouse.serving.report.data import METRICS, ReportData

STATUS_COLUMNS: tuple[str, ...] = ("currency", "status", "close_version", "closed_at", "closed_by", "close_reason",
                                   "as_of_date", "partial_month")


def _value(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if hasattr(v, "item"):
        v = v.item()  # type: ignore[union-attr]
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)
    if isinstance(v, int):
        return str(v)
    return csv_text(str(v))


def write_csv(data: ReportData, path: Path, currency: str = "CNY") -> Path:
    c = data.close
    status = [currency, "closed" if c else "open", c.version if c else None,
              c.closed_at.isoformat(sep=" ") if c else None, c.closed_by if c else None, c.reason if c else None,
              data.as_of.isoformat() if data.as_of else None, data.partial]
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["revenue_month", "level", "window", *METRICS, *STATUS_COLUMNS])
        for _, row in data.summary.iterrows():
            out.writerow([_value(row["revenue_month"].isoformat()), _value(row["level"]), _value(row["window"]),
                          *(_value(row[m]) for m in METRICS), *(_value(v) for v in status)])
    return path
