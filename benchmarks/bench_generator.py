"""Generator throughput: invoice lines per second and peak RSS for a large run.

    .venv/bin/python benchmarks/bench_generator.py                # ~10 million invoice lines
    .venv/bin/python benchmarks/bench_generator.py --lines 1000000

The account count is derived from the wanted number of lines (about 5.6 lines per account-month at
the default skew); the output goes to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from sample_extracts import GeneratorOptions, generate

LINES_PER_ACCOUNT_MONTH = 5.6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000_000, help="target invoice lines (default 10M)")
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--keep", type=Path, default=None, help="write here and keep the output")
    args = parser.parse_args()
    accounts = max(8, round(args.lines / (args.months * LINES_PER_ACCOUNT_MONTH)))
    out = args.keep or Path(tempfile.mkdtemp(prefix="kam-bench-")) / "landing"
    began = time.perf_counter()
    summary = generate(GeneratorOptions(out=out, accounts=accounts, months=args.months, seed=1, defects=0.001))
    seconds = time.perf_counter() - began
    rows = summary.entity_rows()
    total = sum(rows.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
    print(f"accounts={accounts} months={args.months} invoice_lines={rows['invoice_lines']:,} all_rows={total:,}")
    print(f"seconds={seconds:.1f} invoice_lines/s={rows['invoice_lines'] / seconds:,.0f} rows/s={total / seconds:,.0f}")
    print(f"peak_rss_mb={peak_mb:,.0f} output_mb={size_mb:,.0f}")
    if args.keep is None:
        shutil.rmtree(out.parent)


if __name__ == "__main__":
    main()
