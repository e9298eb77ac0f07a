"""The concentration workbook: Summary, Top accounts, By segment, Restatements (openpyxl)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kam_warehouse.serving.report.data import FIGURES, ReportData
from kam_warehouse.serving.report.formatting import FIGURE_FORMATS, label


def _sheet(wb, title: str, frame: pd.DataFrame, currency: str, note: str | None = None) -> None:  # type: ignore[no-untyped-def]
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    first = 1
    if note:
        ws.cell(row=1, column=1, value=note).font = Font(italic=True)
        first = 3
    for c, col in enumerate(frame.columns, start=1):
        head = label(col) if col in FIGURE_FORMATS else col.replace("_", " ")
        if col in ("total_revenue", "revenue"):
            head = f"{head} ({currency})"
        ws.cell(row=first, column=c, value=head).font = Font(bold=True)
        ws.column_dimensions[get_column_letter(c)].width = max(12, min(40, len(head) + 2))
    for r, row in enumerate(frame.itertuples(index=False), start=first + 1):
        for c, (col, value) in enumerate(zip(frame.columns, row, strict=True), start=1):
            cell = ws.cell(row=r, column=c, value=None if pd.isna(value) else _plain(value))
            if col in FIGURE_FORMATS:
                cell.number_format = FIGURE_FORMATS[col][0]
    ws.freeze_panes = ws.cell(row=first + 1, column=1)


def _plain(value: object) -> object:
    """numpy scalars -> Python numbers (openpyxl writes only those)."""
    return value.item() if hasattr(value, "item") else value


def write_xlsx(data: ReportData, path: Path, currency: str) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    status = (f"Closed figures for {data.month:%Y-%m} (frozen at month-end close)" if data.closed
              else f"Current figures for {data.month:%Y-%m} (month not closed)")
    _sheet(wb, "Summary", data.summary[["level", "window", *FIGURES]], currency, note=status)
    _sheet(wb, "Top accounts", data.top_accounts, currency, note="Account level, month window (current data)")
    _sheet(wb, "By segment", data.by_segment, currency)
    restated = data.restatements if not data.restatements.empty else pd.DataFrame(
        {"note": ["no restatements" if data.closed else "month not closed"]})
    _sheet(wb, "Restatements", restated, currency)
    wb.save(path)
    return path
