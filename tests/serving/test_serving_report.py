"""The finance concentration report: workbook, CSV and HTML carry the mart's numbers; charts render."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import pytest

from kam_warehouse.serving.errors import ReportError
from kam_warehouse.serving.report import concentration_report

MONTH = date(2025, 11, 1)
ACCOUNTS = [("A1", "华为技术有限公司", 5_000_000.0), ("A2", "中国平安保险", 2_500_000.0), ("A3", "Acme GmbH", 900_000.0),
            ("A4", "小米科技", 400_000.0), ("A5", "Globex Ltd", 200_000.0)]
REPO_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "concentration_report.png"


def _serving(path: Path, *, closed_revenue: float | None = None) -> Path:
    """A serving warehouse with the marts the report reads (and, optionally, a closed month)."""
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts._publish_info AS SELECT 'run-report' AS run_id")
        con.execute("CREATE TABLE marts.dim_account (account_id VARCHAR, account_name VARCHAR, segment VARCHAR, "
                    "customer_type VARCHAR, tier VARCHAR)")
        con.executemany("INSERT INTO marts.dim_account VALUES (?, ?, 'enterprise', 'economic', 'key')",
                        [(a, n) for a, n, _ in ACCOUNTS])
        con.execute("CREATE TABLE acc (entity_id VARCHAR, revenue DOUBLE)")
        con.executemany("INSERT INTO acc VALUES (?, ?)", [(a, r) for a, _, r in ACCOUNTS])
        con.execute("""CREATE TABLE marts.mart_revenue_lorenz AS
            SELECT ?::DATE AS revenue_month, lv.level, 'month' AS "window",
                   row_number() OVER w AS point, entity_id, revenue,
                   row_number() OVER w / count(*) OVER (PARTITION BY lv.level) AS cumulative_entity_share,
                   sum(revenue) OVER w / sum(revenue) OVER (PARTITION BY lv.level) AS cumulative_revenue_share
            FROM acc, (VALUES ('account'), ('group')) lv(level)
            WINDOW w AS (PARTITION BY lv.level ORDER BY revenue ASC, entity_id DESC)""", [MONTH])
        con.execute("""CREATE TABLE marts.mart_revenue_concentration_monthly AS
            SELECT ?::DATE AS revenue_month, l.level, w.w AS "window", 5::BIGINT AS active_count,
                   (9000000 * w.f)::DECIMAL(18,4) AS total_revenue, 1::INTEGER AS top_20pct_count,
                   0.5555555556 AS top_20pct_share, 1.0 AS top_10_share, 3::BIGINT AS count_for_80pct,
                   4138.27 AS hhi, 0.4622 AS gini, 0.5555 AS max_share, true AS has_account_over_10pct
            FROM (VALUES ('account'), ('group')) l(level), (VALUES ('month', 1), ('t12m', 12)) w(w, f)""", [MONTH])
        con.execute("""CREATE TABLE marts.mart_revenue_concentration_by_segment AS
            SELECT *, 'enterprise' AS segment FROM marts.mart_revenue_concentration_monthly""")
        if closed_revenue is not None:
            con.execute("""CREATE TABLE marts.mart_finance_concentration_closed AS
                SELECT revenue_month AS closed_month, 'overall' AS figure_set, level, "window" AS time_window,
                       'all' AS segment, metric, value
                FROM (UNPIVOT (SELECT revenue_month, level, "window", active_count::DOUBLE active_count,
                               ?::DOUBLE total_revenue, top_20pct_share, top_10_share,
                               count_for_80pct::DOUBLE count_for_80pct, hhi, gini
                               FROM marts.mart_revenue_concentration_monthly)
                      ON COLUMNS(* EXCLUDE (revenue_month, level, "window")) INTO NAME metric VALUE value)""",
                        [closed_revenue])
            con.execute("""CREATE TABLE marts.mart_finance_concentration_restatements AS
                SELECT closed_month, figure_set, level, time_window, segment, metric, value AS closed_value,
                       9000000.0 AS current_value, 9000000.0 - value AS delta,
                       'late invoice loaded after close (1 lines)' AS cause
                FROM marts.mart_finance_concentration_closed
                WHERE metric = 'total_revenue' AND time_window = 'month'""")
    return path


def test_workbook_and_csv_carry_the_marts_numbers(tmp_path: Path) -> None:
    """The Summary sheet and the CSV hold exactly the mart's figures for the month (both levels and
    windows), with finance number formats; every required sheet is there."""
    from openpyxl import load_workbook

    db = _serving(tmp_path / "serving.duckdb")
    out = concentration_report(db, MONTH, tmp_path / "out", {"xlsx", "csv"})
    wb = load_workbook(out["xlsx"])
    assert wb.sheetnames == ["Summary", "Top accounts", "By segment", "Restatements"]
    ws = wb["Summary"]
    header = [c.value for c in ws[3]]
    assert header[:3] == ["level", "window", "Active key accounts"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    assert [r[:4] for r in rows] == [["account", "month", 5, 9_000_000], ["account", "t12m", 5, 108_000_000],
                                     ["group", "month", 5, 9_000_000], ["group", "t12m", 5, 108_000_000]]
    assert ws.cell(row=4, column=4).number_format == "#,##0.00"
    assert ws.cell(row=4, column=5).number_format == "0.0%"
    top = wb["Top accounts"]
    assert [top.cell(row=4, column=3).value, top.cell(row=4, column=7).value] == ["华为技术有限公司", 5_000_000]

    with duckdb.connect(str(db), read_only=True) as con:
        mart = con.execute("SELECT revenue_month, level, \"window\", active_count, total_revenue, top_20pct_share, "
                           "top_10_share, count_for_80pct, hhi, gini FROM marts.mart_revenue_concentration_monthly "
                           "ORDER BY 2, 3").fetchall()
    with out["csv"].open(newline="", encoding="utf-8") as fh:
        got = list(csv.reader(fh))
    assert got[0] == ["revenue_month", "level", "window", "active_count", "total_revenue", "top_20pct_share",
                      "top_10_share", "count_for_80pct", "hhi", "gini"]
    assert [[r[0], r[1], r[2], int(r[3]), *map(float, r[4:])] for r in got[1:]] == [
        [str(m[0]), m[1], m[2], m[3], *map(float, m[4:])] for m in mart]


def test_closed_month_shows_frozen_figures_and_restatements(tmp_path: Path) -> None:
    """For a closed month the report shows the closed figures (not the current mart) and the
    restatements with delta and cause."""
    from openpyxl import load_workbook

    db = _serving(tmp_path / "serving.duckdb", closed_revenue=8_500_000.0)
    out = concentration_report(db, MONTH, tmp_path / "out", {"xlsx", "html"})
    wb = load_workbook(out["xlsx"])
    assert wb["Summary"].cell(row=1, column=1).value.startswith("Closed figures for 2025-11")
    assert wb["Summary"].cell(row=4, column=4).value == 8_500_000
    restated = [[c.value for c in r] for r in wb["Restatements"].iter_rows(min_row=2)]
    assert len(restated) == 2 and restated[0][5:] == [8_500_000, 9_000_000, 500_000,
                                                      "late invoice loaded after close (1 lines)"]
    html = out["html"].read_text(encoding="utf-8")
    assert "8,500,000.00 CNY" in html and "late invoice loaded after close" in html


def test_unknown_month_or_format_is_an_actionable_error(tmp_path: Path) -> None:
    """A month without figures, or an unknown format, raises ReportError saying what is wrong."""
    db = _serving(tmp_path / "serving.duckdb")
    with pytest.raises(ReportError, match="2024-01"):
        concentration_report(db, date(2024, 1, 1), tmp_path, {"csv"})
    with pytest.raises(ReportError, match="pdf"):
        concentration_report(db, MONTH, tmp_path, {"pdf"})


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian package chromium (see docs/finance.md)")
def test_html_renders_in_headless_chromium_with_both_charts(tmp_path: Path) -> None:
    """The HTML page embeds the Lorenz and Pareto charts and renders to a non-blank screenshot in
    headless Chromium (saved to docs/img/ for the README)."""
    from PIL import Image

    db = _serving(tmp_path / "serving.duckdb")
    html = concentration_report(db, MONTH, tmp_path / "out", {"html"})["html"]
    page = html.read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 2
    assert 'id="lorenz"' in page and 'id="pareto"' in page and "华为技术有限公司" in page
    shot = tmp_path / "shot.png"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={shot}", "--window-size=1280,1400", "--hide-scrollbars", html.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    with Image.open(shot) as img:
        colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50  # text and charts, not a blank page
    REPO_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, REPO_SCREENSHOT)
