"""The summary figures as CSV: the columns of mart_revenue_concentration_monthly, plain numbers."""

from __future__ import annotations

from pathlib import Path

from kam_warehouse.serving.report.data import FIGURES, ReportData


def write_csv(data: ReportData, path: Path) -> Path:
    frame = data.summary[["revenue_month", "level", "window", *FIGURES]]
    frame.to_csv(path, index=False, float_format="%.10g")
    return path
