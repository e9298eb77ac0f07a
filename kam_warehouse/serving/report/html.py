"""The concentration report as one self-contained HTML page (charts embedded as base64 PNG)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from kam_warehouse.serving.report.charts import lorenz_png, pareto_png
from kam_warehouse.serving.report.data import FIGURES, ReportData
from kam_warehouse.serving.report.formatting import fmt, label


def _table(frame: pd.DataFrame, currency: str) -> dict[str, list]:
    return {
        "head": [label(c) for c in frame.columns],
        "rows": [[fmt(v, c, currency) for c, v in zip(frame.columns, row, strict=True)]
                 for row in frame.itertuples(index=False)],
    }


def write_html(data: ReportData, path: Path, currency: str) -> Path:
    env = Environment(loader=PackageLoader("kam_warehouse.serving.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    month = f"{data.month:%Y-%m}"
    page = env.get_template("concentration.html.j2").render(
        month=month, closed=data.closed, run_id=data.run_id, currency=currency,
        summary=_table(data.summary[["level", "window", *FIGURES]], currency),
        top=_table(data.top_accounts, currency),
        segments=_table(data.by_segment, currency),
        restatements=_table(data.restatements, currency) if not data.restatements.empty else None,
        lorenz=lorenz_png(data.lorenz, f"Lorenz curve, {month}") if not data.lorenz.empty else None,
        pareto=pareto_png(data.pareto, f"Top accounts, {month}") if not data.pareto.empty else None,
    )
    path.write_text(page, encoding="utf-8")
    return path
