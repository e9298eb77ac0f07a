"""Load complete landing day folders into the build warehouse's `raw` schema, exactly once.

One transaction per (source, day): a rejected file rolls its whole day back, is recorded in the
manifest, copied to `rejected_dir/<source>/<day>/` and stops its source at that day.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from ingest.changes import detect_changes
from ingest.contract import SOURCES
from ingest.errors import FileRejected, IngestError
from ingest.fileinfo import inspect_file
from ingest.landing import day_dir, day_files, is_complete, loaded_days, pending_in
from ingest.load_file import load_file
from ingest.manifest import Batch, record_batch, record_file, record_file_quarantine
from ingest.report import DayLoad, FileResult, LoadReport
from ingest.schema import ensure_raw_schema

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

#: crm first: accounts must exist before billing rows referencing them are checked
SOURCE_ORDER = ("crm", "billing")


def load_day(
    landing_dir: Path, db_path: Path, *, source: str, day: date, run_id: str, rejected_dir: Path
) -> DayLoad:
    """Load one complete day folder of one source (a no-op, `applied=False`, if already loaded).

    Raises FileRejected (nothing of the day applied) or IngestError (folder not complete).
    """
    with _connect(db_path) as con:
        return _load_day(con, Path(landing_dir), source, day, run_id, Path(rejected_dir), None)


def load_landing(
    landing_dir: Path,
    db_path: Path,
    *,
    run_id: str,
    rejected_dir: Path,
    sources: Iterable[str] = SOURCES,
    through_day: date | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load every complete, not yet loaded day folder per source in date order (crm before billing on
    the same day). Files changed after they were loaded are reported, never reloaded. If a file was
    rejected, its source stops at that day, the other sources still load, then FileRejected is raised
    carrying the LoadReport."""
    landing_dir, rejected_dir = Path(landing_dir), Path(rejected_dir)
    ordered = sorted(set(sources), key=lambda s: SOURCE_ORDER.index(s) if s in SOURCE_ORDER else len(SOURCE_ORDER))
    report = LoadReport(run_id)
    rejections: dict[str, FileRejected] = {}
    with _connect(db_path) as con:
        for source in ordered:
            report.changed += detect_changes(con, landing_dir, source, run_id)
        report.warnings += [f"{f.path}: {f.message}" for f in report.changed]
        pending = {s: [d for d in pending_in(con, landing_dir, s) if through_day is None or d <= through_day]
                   for s in ordered}
        for day in sorted({d for days in pending.values() for d in days}):
            for source in ordered:
                if source in rejections or day not in pending[source]:
                    continue
                try:
                    report.days.append(_load_day(con, landing_dir, source, day, run_id, rejected_dir, progress))
                except FileRejected as exc:
                    rejections[source] = exc
                    if exc.day_load:
                        report.days.append(exc.day_load)
                        report.rejected += [f for f in exc.day_load.files if f.status == "rejected"]
    if rejections:
        first, *others = rejections.values()
        problem = first.problem + "".join(f"; also {o.file} rejected: {o.problem}" for o in others)
        raise FileRejected(first.file, problem, report=report, day_load=first.day_load)
    return report


def _connect(db_path: Path) -> duckdb.DuckDBPyConnection:
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db_path))
    ensure_raw_schema(con)
    return con


def _load_day(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    source: str,
    day: date,
    run_id: str,
    rejected_dir: Path,
    progress: Progress | None,
) -> DayLoad:
    if not is_complete(landing_dir, source, day):
        raise IngestError(
            f"{day_dir(landing_dir, source, day)} is not complete (no _SUCCESS marker): not read; "
            "wait for the source to finish writing it"
        )
    batch = Batch(landing_dir, source, day, run_id, datetime.now(UTC).replace(tzinfo=None))
    day_load = DayLoad(source, day, batch.batch_id)
    if day in loaded_days(con, source):
        day_load.applied = False
        return day_load
    current: Path | None = None
    con.begin()
    try:
        with tempfile.TemporaryDirectory(prefix="kam-ingest-") as tmp:
            for e, path in day_files(landing_dir, source, day):
                current = path
                result = load_file(con, batch, e, path, Path(tmp))
                day_load.files.append(result)
                _tell(progress, f"{result.path}: {result.rows_read} rows read, {result.rows_loaded} loaded, "
                                f"{result.rows_quarantined} quarantined")
        record_batch(con, batch, len(day_load.files))
        con.commit()
    except FileRejected as exc:
        con.rollback()
        assert current is not None
        rejected = _record_rejection(con, batch, current, exc.problem, rejected_dir)
        day_load.files, day_load.applied = [rejected], False
        _tell(progress, f"{rejected.path}: REJECTED ({exc.problem}); {source} {day} not applied")
        raise FileRejected(exc.file, exc.problem, day_load=day_load) from exc
    except BaseException:
        con.rollback()
        raise
    return day_load


def _record_rejection(
    con: duckdb.DuckDBPyConnection, batch: Batch, path: Path, problem: str, rejected_dir: Path
) -> FileResult:
    """Manifest row (status 'rejected', rows 0) + a whole-file quarantine row, and a copy of the file."""
    entity = next(e.name for e, p in day_files(batch.landing_dir, batch.source, batch.day) if p == path)
    info = inspect_file(path, ())
    result = FileResult(
        path=batch.relative(path), source=batch.source, entity=entity, rows_read=0, rows_loaded=0,
        rows_quarantined=0, status="rejected", message=problem,
    )
    con.begin()
    record_file(con, batch, result, info)
    record_file_quarantine(con, batch, result)
    con.commit()
    target = rejected_dir / batch.source / batch.day.isoformat()
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, target / path.name)
    log.warning("rejected %s: %s (copied to %s)", result.path, problem, target)
    return result


def _tell(progress: Progress | None, message: str) -> None:
    log.info(message)
    if progress:
        progress(message)
