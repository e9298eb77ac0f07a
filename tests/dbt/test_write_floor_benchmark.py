"""benchmarks/bench_write_floor.py: the write-floor figures in docs/operations.md come from it, so it
must keep running on a real build and copy every row of what it times (a copy that read nothing would
print a floor of zero and prove anything)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_write_floor.py"


def test_write_floor_copies_every_row_of_the_build_and_the_published_marts(generated_build) -> None:
    settings = generated_build.settings
    root = settings.warehouse_dir.parent  # book_settings: <root>/landing and <root>/warehouse
    out = subprocess.run([sys.executable, str(SCRIPT), str(root), "--min-rows", "1"], check=True,
                         capture_output=True, text=True, timeout=600).stdout
    printed = {(m["phase"], m["relation"]): int(m["rows"].replace(",", ""))
               for m in re.finditer(r"^  (?P<phase>build|publish) +(?P<relation>\S+) +(?P<rows>[\d,]+) rows", out, re.M)}
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        def count(relation: str) -> int:
            return con.execute(f"select count(*) from {relation}").fetchone()[0]

        lines, revenue = count("raw.billing__invoice_lines"), count("intermediate.int_invoice_line_revenue")
        facts, entities = count("marts.fct_account_revenue_monthly"), count("marts.mart_finance_concentration_entities")
    assert lines > 0 and printed["build", "raw.billing__invoice_lines"] == lines
    assert printed["build", "intermediate.int_invoice_line_revenue"] == revenue
    assert facts > 0 and printed["publish", "marts.fct_account_revenue_monthly"] == facts
    assert entities > 0 and printed["publish", "marts.mart_finance_concentration_entities"] == entities  # a view
    assert re.search(r"^floor query: \d+\.\d s", out, re.M)
    total = re.search(r"total (\d+\.\d) s", out)
    assert total and float(total.group(1)) > 0
    assert re.search(r"least full/floor +\d+\.\d\d", out)
    assert not list(root.glob("kam-write-floor-*")), "the scratch copies are removed"
