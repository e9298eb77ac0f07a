"""The finance concentration report as finance uses it: numbers equal the marts', a closed month's
report stays identical after late data except its restatements, formula-like names stay text, the
workbook prints one landscape page per sheet with native charts in LibreOffice, the HTML renders in
headless Chromium. One real dbt build (finance models over stub marts) and real publishes."""

from __future__ import annotations

import csv
import dataclasses
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pytest

from kam_warehouse.serving import close_month, publish
from kam_warehouse.serving.errors import ReportError
from kam_warehouse.serving.report import concentration_report, tables
from kam_warehouse.serving.report.data import load
from kam_warehouse.settings import Settings

sys.path.insert(0, str(Path(__file__).parent))  # one finance_project module (and dbt build) per session
import finance_project as fp

NOV = date(2025, 11, 1)
HYPERLINK = '=HYPERLINK("http://x","y")'
ACCOUNTS = (*fp.ACCOUNTS, ("A6", HYPERLINK, 150_000.0), ("A7", "@SUM(A1:A2)", 120_000.0), ("A8", "+1-2", 100_000.0),
            ("A9", "-cmd", 90_000.0))
LATE = tuple((a, n, 9_000_000.0 if a == "A3" else r) for a, n, r in ACCOUNTS)  # Acme becomes the top account
SHEETS = ["Summary", "Top accounts", "Top groups", "By segment", "Charts", "Restatements"]


@dataclasses.dataclass(frozen=True)
class Book:
    open: Path  # serving warehouse before the close
    closed: Path  # right after `close` + publish
    late: Path  # after a late invoice changed November (Acme top), published again


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Book:
    root = tmp_path_factory.mktemp("report")
    config = root / "config"
    config.mkdir()
    (config / "pipeline.yml").write_text("publish:\n  keep_builds: 3\nclose:\n  day_of_month: 5\n")
    s = Settings(landing_dir=root / "landing", warehouse_dir=root / "warehouse", config_dir=config)
    s.ensure_dirs()
    fp.built_copy(s.build_db, tmp_path_factory)
    fp.write_inputs(s.build_db, month=NOV, as_of=date(2025, 12, 3), accounts=ACCOUNTS)
    served = {}
    for stage in ("open", "closed", "late"):
        if stage == "closed":
            close_month(s, NOV, run_id="close__1", closed_by="@finance-bot")
        if stage == "late":
            fp.late_invoice(s.build_db, loaded_on=date(2025, 12, 6))
            fp.write_inputs(s.build_db, month=NOV, as_of=date(2025, 12, 6), accounts=LATE)
        publish(s, run_id=f"publish__{stage}")
        served[stage] = root / f"{stage}.duckdb"
        shutil.copyfile(s.serving_db, served[stage])
    return Book(**served)


def _mart(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _sheet_values(ws) -> list[list[object]]:  # type: ignore[no-untyped-def]
    return [[c.value for c in row] for row in ws.iter_rows()]


def _table_rows(ws, *first_columns: str) -> tuple[list[object], list[list[object]]]:  # type: ignore[no-untyped-def]
    """(header, rows) of the sheet's table whose header row starts with `first_columns`."""
    values = _sheet_values(ws)
    start = next(i for i, r in enumerate(values) if tuple(r[:len(first_columns)]) == first_columns)
    rows = []
    for r in values[start + 1:]:
        if r[0] is None:
            break
        rows.append(r)
    return values[start], rows


def test_workbook_and_csv_carry_the_marts_numbers(book: Book, tmp_path: Path) -> None:
    """Every headline figure of the Summary (both levels and windows) equals the mart's value, the MoM /
    YoY columns equal the comparison months', the top accounts are the mart's; the CSV has the mart's
    columns at full precision (equal, not approximately equal)."""
    from openpyxl import load_workbook

    out = concentration_report(book.open, NOV, tmp_path, {"xlsx", "csv"})
    wb = load_workbook(out["xlsx"])
    assert wb.sheetnames == [*SHEETS, "Chart data"] and wb["Chart data"].sheet_state == "hidden"
    mart = {(r[0], r[1], r[2]): r[3:] for r in _mart(book.open, """
        SELECT revenue_month, level, "window", active_count, total_revenue, top_20pct_share, top_10_share,
               count_for_80pct, hhi, gini FROM marts.mart_revenue_concentration_monthly""")}
    header, rows = _table_rows(wb["Summary"], "Level")
    assert header[3:] == ["2025-11", "Previous month (2025-10)", "MoM", "Same month last year (2024-11)", "YoY"]
    labels = {"Account": "account", "Group": "group", "Month": "month", "Trailing 12 months": "t12m"}
    figures = ["Active key accounts", "Total revenue", "Top-20% share", "Top-10 share",
               "Accounts for 80% of revenue", "HHI (0-10,000)", "Gini"]
    assert len(rows) == 4 * len(figures)
    for level, window, figure, value, previous, _mom, year_before, _yoy in rows:
        key = (labels[level], labels[window])
        i = figures.index(figure)
        assert value == pytest.approx(mart[(NOV, *key)][i], rel=1e-15), (key, figure)
        assert previous == pytest.approx(mart[(date(2025, 10, 1), *key)][i], rel=1e-15)
        assert year_before == pytest.approx(mart[(date(2024, 11, 1), *key)][i], rel=1e-15)
    money = wb["Summary"].cell(row=next(i for i, r in enumerate(_sheet_values(wb["Summary"]), 1)
                                        if r[2] == "Total revenue"), column=4)
    assert money.number_format == '#,##0.00 "CNY"'
    _, top = _table_rows(wb["Top accounts"], "Rank")
    assert [(r[1], r[2], r[6]) for r in top[:2]] == [("A1", "华为技术有限公司", 5_000_000.25),
                                                    ("A2", "中国平安保险(集团)股份有限公司", 2_500_000.10)]

    with out["csv"].open(newline="", encoding="utf-8") as fh:
        got = list(csv.reader(fh))
    assert got[0][:12] == ["revenue_month", "level", "window", *fp.METRICS]
    full = {(r[1], r[2]): r for r in _mart(book.open, f"SELECT revenue_month, level, \"window\", {', '.join(fp.METRICS)} "
                                           "FROM marts.mart_revenue_concentration_monthly WHERE revenue_month = '2025-11-01'")}
    for row in got[1:]:
        expected = full[(row[1], row[2])]
        assert [float(v) for v in row[3:12]] == [float(v) for v in expected[3:]]  # exact: repr round-trips
    assert got[1][12:15] == ["CNY", "open", ""]


def _pull(db: Path, out: Path) -> dict[str, Path]:
    return concentration_report(db, NOV, out, {"xlsx", "html", "csv"})


def _html_sections(path: Path) -> dict[str, str]:
    page = path.read_text(encoding="utf-8")
    found = dict(re.findall(r'<(?:section|header) id="(\w+)">(.*?)</(?:section|header)>', page, flags=re.S))
    found["header"] = re.sub(r'<p class="pulled">.*?</p>', "", found["header"])
    return found


def test_a_closed_report_is_identical_after_late_data_except_restatements(book: Book, tmp_path: Path) -> None:
    """Done-when: after a late invoice makes Acme November's top account, the closed report's every
    sheet / section (summary, MoM / YoY, top accounts and groups, segments, charts and their data) is
    the same as right after the close; only Restatements (and the pulled-at time) differ, and they show
    closed, current, delta and delta % readably (money with 2 decimals and CNY, shares in %, pp)."""
    from openpyxl import load_workbook

    before, after = _pull(book.closed, tmp_path / "before"), _pull(book.late, tmp_path / "after")
    wb_before, wb_after = load_workbook(before["xlsx"]), load_workbook(after["xlsx"])
    for name in [*SHEETS[:-1], "Chart data"]:
        a, b = _sheet_values(wb_before[name]), _sheet_values(wb_after[name])
        strip = [[v for v in row if not (isinstance(v, str) and v.startswith("Pulled at"))] for row in a]
        assert strip == [[v for v in row if not (isinstance(v, str) and v.startswith("Pulled at"))] for row in b], name
    assert wb_after["Summary"]["A2"].value.startswith("Status: closed v1 at ")
    assert wb_after["Summary"]["A2"].value.endswith("by @finance-bot, data as of 2025-12-03")
    _, top = _table_rows(wb_after["Top accounts"], "Rank")
    assert top[0][2] == "华为技术有限公司"  # frozen: Acme leads only in the current data
    assert _mart(book.late, "SELECT entity_name FROM marts.mart_finance_concentration_entities WHERE rank_desc = 1 "
                 "AND level = 'account' AND time_window = 'month' AND revenue_month = '2025-11-01'") == [("Acme GmbH",)]

    h_before, h_after = _html_sections(before["html"]), _html_sections(after["html"])
    assert set(h_before) == {"header", "summary", "definitions", "charts", "top_accounts", "top_groups", "by_segment",
                             "restatements"}
    assert {k: v for k, v in h_before.items() if k != "restatements"} == {
        k: v for k, v in h_after.items() if k != "restatements"}
    assert "None: every closed figure still holds" in h_before["restatements"]
    assert before["csv"].read_bytes() == after["csv"].read_bytes()  # the CSV is the closed summary only

    header, rows = _table_rows(wb_after["Restatements"], "Level")
    assert header == ["Level", "Window", "Segment", "Figure", "Closed", "Current", "Delta", "Delta %", "Cause"]
    sheet = wb_after["Restatements"]
    first = next(i for i, r in enumerate(_sheet_values(sheet), 1) if r[0] == "Level") + 1
    by_label = {(r[0], r[1], r[2], r[3]): (first + i, r) for i, r in enumerate(rows)}
    line, revenue = by_label[("Account", "Month", "all", "Total revenue")]
    assert revenue[4:8] == [pytest.approx(9_460_000.35), pytest.approx(17_560_000.35), pytest.approx(8_100_000.0),
                            pytest.approx(8_100_000.0 / 9_460_000.35)]
    assert sheet.cell(row=line, column=5).number_format == '#,##0.00 "CNY"'
    assert sheet.cell(row=line, column=8).number_format == "+0.00%;-0.00%;0.00%"
    line, share = by_label[("Account", "Month", "all", "Largest share")]
    assert sheet.cell(row=line, column=5).number_format == "0.00%"
    assert share[6] == pytest.approx((share[5] - share[4]) * 100)  # percentage points
    assert revenue[8] == "late invoice loaded after close (1 lines)"
    assert sheet.column_dimensions["I"].width >= len(revenue[8])  # sized from content, not the header
    html = h_after["restatements"]
    assert "+8,100,000.00 CNY" in html and "9,460,000.35 CNY" in html and " pp</td>" in html

    _, moved = _table_rows(sheet, "Level", "ID")  # the accounts behind the restatement, by name
    acme = [r for r in moved if r[:3] == ["Account", "A3", "Acme GmbH"]]
    assert len(acme) == 1 and acme[0][3:8] == [3, 1, 900_000.0, 9_000_000.0, pytest.approx(8_100_000.0)]
    assert "Accounts and groups that moved" in html and "No account or group" in h_before["restatements"]


def test_formula_like_text_is_written_as_text(book: Book, tmp_path: Path) -> None:
    """Account names and other strings starting with =, +, -, @ are text cells in the workbook (no
    formula anywhere in its XML) and carry the OWASP leading quote in the CSV."""
    from openpyxl import load_workbook

    out = _pull(book.closed, tmp_path)
    with zipfile.ZipFile(out["xlsx"]) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and not any("<f>" in x or "<f " in x for x in sheets)
    wb = load_workbook(out["xlsx"])
    names = {c.value: c for row in wb["Top accounts"].iter_rows() for c in row if isinstance(c.value, str)}
    for name in (HYPERLINK, "@SUM(A1:A2)", "+1-2", "-cmd"):
        assert names[name].data_type == "s" and names[name].quotePrefix, name
    with out["csv"].open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["closed_by"] for r in rows} == {"'@finance-bot"}


def test_partial_month_and_open_status_are_flagged(book: Book) -> None:
    """An open month's header says "open: current figures"; when the data stops inside the month the
    report flags it as partial (closed months never are: a close needs the whole month)."""
    data = load(book.open, NOV)
    assert tables.status_line(data) == "Status: open: current figures (data as of 2025-12-03)"
    assert not data.partial
    partial = dataclasses.replace(data, as_of=date(2025, 11, 4))
    assert any(line.startswith("PARTIAL MONTH: data only through 2025-11-04") for line in
               tables.header_lines(partial, "CNY"))
    assert not load(book.closed, NOV).partial


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="needs libreoffice-calc and poppler-utils (scripts/ensure-sysdeps.sh)")
def test_workbook_prints_one_landscape_page_per_sheet_in_libreoffice(book: Book, tmp_path: Path) -> None:
    """LibreOffice headless converts the closed, restated workbook to PDF: one landscape page per visible
    sheet, with the key figures, the Chinese names (not cut off) and the formula-like name as plain text;
    the Lorenz and Pareto charts are native Excel charts in the file."""
    xlsx = _pull(book.late, tmp_path / "out")["xlsx"]
    with zipfile.ZipFile(xlsx) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2 and any("<scatterChart>" in c for c in charts)
    assert any("<barChart>" in c and "<lineChart>" in c for c in charts)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(xlsx)],
                   check=True, capture_output=True, timeout=300)
    pdf = tmp_path / f"{xlsx.stem}.pdf"
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)
    assert len(sizes) == len(SHEETS)
    assert all(float(w) > float(h) for w, h in sizes)  # landscape
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    for expected in ("9,460,000.35 CNY", "华为技术有限公司", "中国平安保险(集团)股份有限公司", HYPERLINK,
                     "Status: closed v1 at", "Lorenz curve", "late invoice loaded after close (1 lines)",
                     "+8,100,000.00 CNY"):
        assert expected in text, expected


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian package chromium (see docs/finance.md)")
def test_html_renders_in_headless_chromium_with_both_charts(book: Book, tmp_path: Path) -> None:
    """The HTML page embeds the Lorenz and Pareto charts and renders to a non-blank screenshot in headless
    Chromium (written to tmp_path: `make screenshot` makes the README image)."""
    from PIL import Image

    from kam_warehouse.serving.report.screenshot import screenshot

    html = _pull(book.closed, tmp_path / "out")["html"]
    page = html.read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 2
    assert 'id="lorenz"' in page and 'id="pareto"' in page and "华为技术有限公司" in page
    assert "=HYPERLINK(&#34;http://x&#34;,&#34;y&#34;)" in page  # escaped text, not markup
    shot = screenshot(html, tmp_path / "shot.png")
    with Image.open(shot) as img:
        colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50  # text and charts, not a blank page


def test_unknown_month_format_or_old_serving_file_is_an_actionable_error(book: Book, tmp_path: Path) -> None:
    """A month without figures, an unknown format, or a serving file without the finance marts raises
    ReportError saying what is wrong."""
    with pytest.raises(ReportError, match="2024-01"):
        concentration_report(book.open, date(2024, 1, 1), tmp_path, {"csv"})
    with pytest.raises(ReportError, match="pdf"):
        concentration_report(book.open, NOV, tmp_path, {"pdf"})
    old = tmp_path / "old.duckdb"
    with duckdb.connect(str(old)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.mart_revenue_concentration_monthly AS SELECT DATE '2025-11-01' AS revenue_month")
    with pytest.raises(ReportError, match="mart_finance_concentration_figures"):
        concentration_report(old, NOV, tmp_path, {"csv"})
