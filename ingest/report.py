"""What a load did: per file, per day, per run (returned to callers, logged, shown by `kam`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

FileStatus = Literal["loaded", "rejected", "changed_after_load"]


@dataclass(frozen=True)
class FileResult:
    path: str  # relative to the landing root: <source>/<day>/<file>
    source: str
    entity: str
    rows_read: int  # data records, header excluded
    rows_loaded: int
    rows_quarantined: int
    status: FileStatus
    message: str | None = None
    extra_columns: tuple[str, ...] = ()
    encoding: str | None = None


@dataclass
class DayLoad:
    source: str
    day: date
    batch_id: str
    files: list[FileResult] = field(default_factory=list)
    #: False when the day had already been loaded (the call was a no-op)
    applied: bool = True


@dataclass
class LoadReport:
    run_id: str
    days: list[DayLoad] = field(default_factory=list)
    #: rejected files (also in `files` with status 'rejected')
    rejected: list[FileResult] = field(default_factory=list)
    #: files changed after load, found in already-loaded days (reported, never reloaded)
    changed: list[FileResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: landing entries not read, one line each (`ingest.landing.survey`), e.g.
    #: "billing/2026-01-07: no _SUCCESS yet, not read", "crm/2024-2-4: not a YYYY-MM-DD day folder ..."
    notices: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[FileResult]:
        return [f for d in self.days for f in d.files] + self.changed

    @property
    def days_loaded(self) -> list[tuple[str, date]]:
        return [(d.source, d.day) for d in self.days if d.applied]

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for d in self.days for f in d.files if f.status == "loaded")

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for d in self.days for f in d.files if f.status == "loaded")

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for d in self.days for f in d.files if f.status == "loaded")

    def summary(self) -> str:
        """One line for logs, `kam` and ops.pipeline_runs.message."""
        if not self.days_loaded and not self.changed:
            return "nothing new to load"
        text = (
            f"{len(self.days_loaded)} day folder(s) loaded: {self.rows_read:,} rows read, "
            f"{self.rows_loaded:,} loaded, {self.rows_quarantined:,} quarantined"
        )
        if self.rejected:
            text += f"; {len(self.rejected)} file(s) rejected"
        if self.changed:
            text += f"; {len(self.changed)} already-loaded file(s) changed since (reported, not reloaded)"
        return text
