"""Small command-line helpers for scripts/airflow-local.sh.

    python -m kam_warehouse.orchestration.landing_days latest <landing_dir>    # latest day complete in every source
    python -m kam_warehouse.orchestration.landing_days summary <warehouse_dir> # the serving summary
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from kam_warehouse.errors import KamError


def latest_common_day(landing_dir: Path, sources: tuple[str, ...] = ("billing", "crm")) -> date:
    """The latest day that is complete (`_SUCCESS`) for every source: the day a demo run stands for."""
    from ingest.landing import complete_days

    per_source = [set(complete_days(landing_dir, s)) for s in sources]
    common = set.intersection(*per_source) if per_source else set()
    if not common:
        raise KamError(f"no landing day under {landing_dir} is complete for all of {', '.join(sources)}")
    return max(common)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("latest", "summary"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "latest":
        print(latest_common_day(Path(argv[1])).isoformat())
    else:
        from kam_warehouse.settings import Settings
        from kam_warehouse.summary import read_summary

        print(read_summary(Settings.from_env(warehouse=Path(argv[1])).serving).render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
