"""The concentration workbook (openpyxl): Summary (+ definitions), Top accounts, Top groups, By segment,
Charts (native Lorenz and Pareto charts), Restatements; a hidden Chart data sheet feeds the charts.

Every sheet starts with the same header block (title, close status, currency, partial-month flag),
freezes it with the table header, prints landscape fit-to-width (one page when it fits, the table
header repeated otherwise) and sizes columns from their content (Chinese characters count double) so
names are never cut off. String cells are written as text, never as formulas (cells.py). The build id
and pulled-at time are in the page footer; the pulled-at time is also the Summary's last header line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kam_warehouse.serving.report import tables
from kam_warehouse.serving.report.cells import display_width, is_formula_like
from kam_warehouse.serving.report.data import ReportData
from kam_warehouse.serving.report.tables import Cell, Table

#: rows up to which a sheet is printed on exactly one page (longer tables run on, header repeated)
ONE_PAGE_ROWS = 45
MAX_WRAP_WIDTH = 70
CHART_DATA = "Chart data"
#: tables whose last column is prose printed over the empty cells beside it (not sizing the column)
OVERFLOWING = frozenset({"definitions"})
CHART_COLUMN_WIDTH = 10
SERIES_COLOURS = {"account": "2F6DB5", "group": "D9822B", "equality": "999999"}


def _write(ws: Any, row: int, col: int, cell: Cell) -> Any:
    target = ws.cell(row=row, column=col)
    target.value = cell.value
    if isinstance(cell.value, str):
        target.data_type = "s"  # never a formula, whatever the text starts with
        if is_formula_like(cell.value):
            target.quotePrefix = True  # and stays text when someone edits the cell
    elif cell.numeric and cell.excel:
        target.number_format = cell.excel
    return target


def _header_block(ws: Any, data: ReportData, currency: str, *, pulled: bool) -> int:
    """Write the header lines; return the next free row."""
    from openpyxl.styles import Font

    lines = tables.header_lines(data, currency)
    for i, line in enumerate(lines, start=1):
        c = _write(ws, i, 1, tables.txt(line))
        c.font = Font(bold=True, size=14) if i == 1 else Font(bold=line.startswith("PARTIAL"),
                                                              color="B00020" if line.startswith("PARTIAL") else None)
    row = len(lines) + 1
    if pulled:
        _write(ws, row, 1, tables.txt(tables.pulled_line(data))).font = Font(italic=True, color="666666")
        row += 1
    return row + 1


def _table(ws: Any, table: Table, first_row: int, widths: dict[int, int]) -> tuple[int, int]:
    """Write note, header and rows from `first_row`; return (header row, next free row)."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    row = first_row
    if table.note:
        _write(ws, row, 1, tables.txt(table.note)).font = Font(italic=True)
        row += 1
    thin = Side(style="thin", color="BBBBBB")
    header = row
    for c, name in enumerate(table.columns, start=1):
        cell = _write(ws, header, c, tables.txt(name))
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8EEF5")
        cell.border = Border(bottom=thin)
        cell.alignment = Alignment(wrap_text=False, vertical="bottom")
        widths[c] = max(widths.get(c, 0), display_width(name))
    for r, cells in enumerate(table.rows, start=header + 1):
        for c, cell in enumerate(cells, start=1):
            target = _write(ws, r, c, cell)
            width = display_width(cell.text)
            if c - 1 in table.wrap:
                target.alignment = Alignment(wrap_text=True, vertical="top")
                width = min(width, MAX_WRAP_WIDTH)
            if c == len(cells) and table.key in OVERFLOWING:
                continue  # the last column's text runs on over the empty cells to its right
            widths[c] = max(widths.get(c, 0), width)
    return header, header + 1 + len(table.rows)


def _size_columns(ws: Any, widths: dict[int, int]) -> None:
    from openpyxl.utils import get_column_letter

    for c, width in widths.items():
        ws.column_dimensions[get_column_letter(c)].width = width + 3


def _print_setup(ws: Any, data: ReportData, *, header_row: int, rows: int) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if rows <= ONE_PAGE_ROWS else 0
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    if header_row:
        ws.print_title_rows = f"{header_row}:{header_row}"
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.oddFooter.left.text = tables.footer_line(data).replace("&", "&&")
    ws.oddFooter.left.size = 8
    ws.oddFooter.right.text = "Page &P of &N"
    ws.oddFooter.right.size = 8


def _table_sheet(wb: Any, name: str, data: ReportData, currency: str, table: Table,
                 extra: Table | None = None) -> None:
    ws = wb.create_sheet(name)
    start = _header_block(ws, data, currency, pulled=name == "Summary")
    widths: dict[int, int] = {}
    header, end = _table(ws, table, start, widths)
    if extra is not None:
        _, end = _table(ws, extra, end + 1, widths)
    _size_columns(ws, widths)
    _print_setup(ws, data, header_row=header, rows=end)


def _chart_data(wb: Any, data: ReportData) -> dict[str, tuple[int, int]]:
    """The charts' numbers on a hidden sheet; return block -> (first row, last row)."""
    ws = wb.create_sheet(CHART_DATA)
    ws.sheet_state = "hidden"
    blocks: dict[str, tuple[int, int]] = {}
    lorenz = data.lorenz()
    for col, level in ((1, "account"), (4, "group")):
        points = lorenz[lorenz.level == level]
        _write(ws, 1, col, tables.txt(f"{level} share of entities"))
        _write(ws, 1, col + 1, tables.txt(f"{level} level"))
        ws.cell(row=2, column=col, value=0.0)
        ws.cell(row=2, column=col + 1, value=0.0)
        for r, p in enumerate(points.itertuples(index=False), start=3):
            ws.cell(row=r, column=col, value=float(p.cumulative_entity_share))
            ws.cell(row=r, column=col + 1, value=float(p.cumulative_revenue_share))
        blocks[level] = (2, 2 + len(points))
    _write(ws, 1, 7, tables.txt("equality x"))
    _write(ws, 1, 8, tables.txt("line of equality"))
    for r, v in ((2, 0.0), (3, 1.0)):
        ws.cell(row=r, column=7, value=v)
        ws.cell(row=r, column=8, value=v)
    blocks["equality"] = (2, 3)
    top = data.top("account")
    for c, head in enumerate(("account id", "account", "revenue", "cumulative share of total revenue"), start=9):
        _write(ws, 1, c, tables.txt(head))
    for r, t in enumerate(top.itertuples(index=False), start=2):
        _write(ws, r, 9, tables.txt(t.entity_id))
        _write(ws, r, 10, tables.txt(t.entity_name))
        ws.cell(row=r, column=11, value=float(t.revenue))
        ws.cell(row=r, column=12, value=float(t.cumulative_share))
    blocks["pareto"] = (2, 1 + len(top))
    return blocks


def _charts_sheet(wb: Any, data: ReportData, currency: str, blocks: dict[str, tuple[int, int]]) -> None:
    from openpyxl.chart import BarChart, LineChart, Reference, ScatterChart, Series
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet("Charts")
    start = _header_block(ws, data, currency, pulled=False)
    src = wb[CHART_DATA]

    lorenz = ScatterChart()
    lorenz.title = "Lorenz curve (month)"
    lorenz.legend.position = "b"
    lorenz.style = 13
    lorenz.x_axis.title = "cumulative share of active accounts / groups (ascending revenue)"
    lorenz.y_axis.title = "cumulative share of revenue"
    for axis in (lorenz.x_axis, lorenz.y_axis):
        axis.scaling.min, axis.scaling.max = 0, 1
        axis.number_format = "0%"
        axis.majorGridlines = None
        axis.delete = False
    for col, key in ((1, "account"), (4, "group"), (7, "equality")):
        first, last = blocks[key]
        xs = Reference(src, min_col=col, min_row=first, max_row=last)
        ys = Reference(src, min_col=col + 1, min_row=first - 1, max_row=last)
        series = Series(ys, xs, title_from_data=True)
        series.marker.symbol = "none"
        series.smooth = False
        series.graphicalProperties.line.solidFill = SERIES_COLOURS[key]
        if key == "equality":
            series.graphicalProperties.line.dashStyle = "dash"
        lorenz.series.append(series)
    lorenz.width, lorenz.height = 12.5, 12
    ws.add_chart(lorenz, f"A{start}")

    first, last = blocks["pareto"]
    bars = BarChart()
    bars.type = "col"
    bars.title = f"Pareto: top {last - first + 1} accounts (month)"
    bars.legend.position = "b"
    bars.y_axis.title = f"revenue ({currency})"
    bars.y_axis.number_format = "#,##0"
    bars.add_data(Reference(src, min_col=11, min_row=first - 1, max_row=last), titles_from_data=True)
    bars.set_categories(Reference(src, min_col=9, min_row=first, max_row=last))
    line = LineChart()
    line.add_data(Reference(src, min_col=12, min_row=first - 1, max_row=last), titles_from_data=True)
    line.y_axis.axId = 200
    line.y_axis.title = "cumulative share"
    line.y_axis.number_format = "0%"
    line.y_axis.scaling.min, line.y_axis.scaling.max = 0, 1
    line.y_axis.crosses = "max"
    for axis in (bars.x_axis, bars.y_axis, line.y_axis):
        axis.delete = False
    bars.series[0].graphicalProperties.solidFill = SERIES_COLOURS["account"]
    line.series[0].graphicalProperties.line.solidFill = SERIES_COLOURS["group"]
    bars += line
    bars.width, bars.height = 16.5, 12
    ws.add_chart(bars, f"H{start}")
    for c in range(1, 17):
        ws.column_dimensions[get_column_letter(c)].width = CHART_COLUMN_WIDTH
    _print_setup(ws, data, header_row=0, rows=start + 20)
    ws.freeze_panes = ws.cell(row=start, column=1)


def write_xlsx(data: ReportData, path: Path, currency: str) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    summary, top_accounts, top_groups, segments, restated = tables.sections(data, currency)
    _table_sheet(wb, "Summary", data, currency, summary, extra=tables.definitions())
    _table_sheet(wb, "Top accounts", data, currency, top_accounts)
    _table_sheet(wb, "Top groups", data, currency, top_groups)
    _table_sheet(wb, "By segment", data, currency, segments)
    _charts_sheet(wb, data, currency, _chart_data(wb, data))
    _table_sheet(wb, "Restatements", data, currency, restated,
                 extra=tables.moved_entities(data, currency) if data.closed else None)
    wb.move_sheet(CHART_DATA, offset=len(wb.sheetnames))
    wb.active = 0
    wb.save(path)
    return path
