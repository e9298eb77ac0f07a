"""Ingest exceptions: what failed, which file, and what the person must do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kam_warehouse.core.errors import KamError

if TYPE_CHECKING:
    from ingest.report import DayLoad, LoadReport


class IngestError(KamError):
    """Loading the landing zone failed (e.g. a day folder is not complete or the DB is unusable)."""


class LoadOutOfMemory(IngestError):
    """DuckDB ran out of memory reading a landing file under the load's memory_limit: the host's limit,
    not the file, is at fault, so the file is not rejected and the whole load stops (nothing of that
    day folder is loaded; it loads on the next run once the limit is raised)."""


class FileRejected(IngestError):
    """A landing file was rejected whole; its day folder was not applied and its source stopped there.

    `file` is the path relative to the landing root, `problem` starts with the defect class
    (e.g. ``missing_required_column: ...``). `problems` lists every (file, problem) of the run, the
    first being (`file`, `problem`); the message names them all. `report` is the LoadReport of
    everything else that ran (set by `load_landing`), `day_load` the rejected day (set by the day loader).
    """

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        report: LoadReport | None = None,
        day_load: DayLoad | None = None,
        problems: list[tuple[str, str]] | None = None,
    ) -> None:
        self.problems = problems or [(file, problem)]
        also = "".join(f"; also {f} rejected: {p}" for f, p in self.problems[1:])
        super().__init__(
            f"landing file {file} rejected: {problem}{also}. Nothing of a rejected day folder was loaded and "
            "later days of its source wait; ask the source to re-deliver fixed files under the expected names "
            "(and remove any file that does not belong), then re-run."
        )
        self.file = file
        self.problem = problem
        self.report = report
        self.day_load = day_load
