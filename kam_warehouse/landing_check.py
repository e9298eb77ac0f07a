"""What the landing zone holds before a run reads it: day folders, complete ones, and every folder that
will not be read, with the reason ("billing/2026-01-07: no _SUCCESS yet, not read").

Read-only, like everything that looks at the landing zone. The loader reads only complete
`<source>/<YYYY-MM-DD>/` folders (ingest.landing); this survey names everything else so nothing is
skipped without a word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kam_warehouse.dates import DateFormatError, parse_day


@dataclass
class LandingSurvey:
    """Counts of day folders (validly named) and complete ones, and one notice per folder not read."""

    day_folders: int = 0
    complete: int = 0
    notices: list[str] = field(default_factory=list)


def survey(landing_dir: Path) -> LandingSurvey:
    """Look at every `<source>/<folder>` under `landing_dir` (landing_dir must exist)."""
    from ingest.contract import SOURCES
    from ingest.landing import SUCCESS_MARKER

    result = LandingSurvey()
    for child in sorted(Path(landing_dir).iterdir()):
        if child.name.startswith(".") or child.name in SOURCES:
            continue
        if child.is_dir():
            result.notices.append(f"{child.name}/: not a source folder (expected {', '.join(SOURCES)}), not read")
    for source in SOURCES:
        root = Path(landing_dir) / source
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            where = f"{source}/{folder.name}"
            try:
                parse_day(folder.name, "folder name")
            except DateFormatError:
                result.notices.append(f"{where}: folder name is not a date YYYY-MM-DD, not read")
                continue
            result.day_folders += 1
            if (folder / SUCCESS_MARKER).is_file():
                result.complete += 1
            else:
                result.notices.append(f"{where}: no {SUCCESS_MARKER} yet, not read")
    return result
