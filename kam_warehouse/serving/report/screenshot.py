"""Render the HTML report in headless Chromium: a PNG screenshot (the README image, `make screenshot`)
and the tests' check that the page renders.

    python -m kam_warehouse.serving.report.screenshot --warehouse data/warehouse --out docs/img/x.png

picks the latest closed month of the served warehouse (else the latest complete month), writes its
HTML report into a temporary folder and screenshots it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

from kam_warehouse.core.warehouse import WarehouseTarget, as_warehouse, connect
from kam_warehouse.serving.errors import ReportError

#: flags for a headless Chromium that stays off the network (see /work/.library/env/machines/python.md)
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-default-apps", "--disable-extensions", "--no-first-run", "--hide-scrollbars",
    "--mute-audio", "--metrics-recording-only", "--no-default-browser-check",
)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise ReportError("no headless Chromium found (Debian package chromium; scripts/ensure-sysdeps.sh installs it)")


def screenshot(html: Path, png: Path, *, width: int = 1280, height: int = 1600, timeout: float = 120) -> Path:
    """Screenshot `html` into `png` with a throw-away browser profile."""
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kam-chromium-") as profile:
        done = subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}",
             f"--window-size={width},{height}", html.resolve().as_uri()],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
    if done.returncode != 0 or not png.exists():
        raise ReportError(f"chromium could not render {html} (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return png


def report_month(serving_db: WarehouseTarget) -> date:
    """The latest closed month of a served warehouse, else the latest month with data through its end."""
    warehouse = as_warehouse(serving_db)
    if not warehouse.exists():
        raise ReportError(f"serving warehouse {warehouse.describe()} does not exist; run `make demo` first")
    with connect(warehouse, read_only=True) as con:
        closed = con.execute("SELECT max(closed_month) FROM marts.mart_finance_close_versions").fetchone()
        if closed and closed[0]:
            return closed[0]
        row = con.execute("SELECT max(revenue_month) FROM marts.mart_revenue_concentration_monthly "
                          "WHERE revenue_month < (SELECT date_trunc('month', as_of_date + 1) "
                          "FROM marts._publish_info)").fetchone()
    if not row or not row[0]:
        raise ReportError(f"{warehouse.describe()} has no complete month to report")
    return row[0]


def main(argv: list[str] | None = None) -> int:
    from kam_warehouse.serving.report import concentration_report
    from kam_warehouse.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=None)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    settings = Settings.from_env(warehouse=args.warehouse)
    month = report_month(settings.serving)
    with tempfile.TemporaryDirectory(prefix="kam-report-") as tmp:
        html = concentration_report(settings.serving, month, Path(tmp), {"html"},
                                    currency=settings.reporting_currency)["html"]
        screenshot(html, args.out)
    print(f"{args.out}: concentration report {month:%Y-%m} of {settings.serving.describe()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
