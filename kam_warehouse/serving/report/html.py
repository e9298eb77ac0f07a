"""The concentration report as one self-contained HTML page (charts embedded as base64 PNG).

Sections carry ids (summary, definitions, charts, top_accounts, top_groups, by_segment, restatements)
and render the same tables as the workbook (report/tables.py). Jinja autoescaping keeps account names
inert."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from kam_warehouse.serving.report import tables
from kam_warehouse.serving.report.charts import lorenz_png, pareto_png
from kam_warehouse.serving.report.data import ReportData


def write_html(data: ReportData, path: Path, currency: str) -> Path:
    env = Environment(loader=PackageLoader("kam_warehouse.serving.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    month = f"{data.month:%Y-%m}"
    lorenz, top = data.lorenz(), data.top("account")
    page = env.get_template("concentration.html.j2").render(
        month=month, closed=data.closed, partial=data.partial, title=tables.title(data),
        header=tables.header_lines(data, currency)[1:], pulled=tables.pulled_line(data),
        footer=tables.footer_line(data), sections=tables.sections(data, currency), definitions=tables.definitions(),
        moved=tables.moved_entities(data, currency) if data.closed else None,
        lorenz=lorenz_png(lorenz, f"Lorenz curve, {month} (month)") if not lorenz.empty else None,
        pareto=pareto_png(top, f"Top accounts, {month}") if not top.empty else None,
    )
    path.write_text(page, encoding="utf-8")
    return path
