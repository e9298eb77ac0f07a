"""Load complete landing day folders into the build warehouse's `raw` schema, exactly once.

The target is any warehouse (`WarehouseTarget`; a path is the embedded DuckDB file there). Reading and
checking always run on embedded DuckDB: in the target itself when it is an embedded DuckDB file, else
in the local working file `working_db`, whose rows are copied to the target per (source, day) in one
target transaction (`ingest.working`: the target is the truth; a crash between the two commits
neither loses nor duplicates a day).

Per (source, day): every file is read and checked first (`read_file`, outside any transaction), then
applied in one transaction (`apply_file`). A day with any problem (an unknown, unreadable or escaping
file, a failed check, even an unexpected error) is not applied: every rejected file of it is recorded
in the manifest and quarantine and copied (0600) to `rejected_dir/<source>/<day>/`, and its source
stops at that day; the other source still loads.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from ingest.changes import detect_changes
from ingest.contract import SOURCES
from ingest.errors import FileRejected, IngestError, LoadOutOfMemory
from ingest.fileinfo import CHUNK, FileInfo, inspect_file
from ingest.landing import (
    FileProblem,
    day_dir,
    day_files,
    day_problems,
    inside_root,
    is_complete,
    loaded_days,
    pending_in,
    survey,
)
from ingest.load_file import ReadFile, apply_file, drop_tables, read_file
from ingest.manifest import Batch, record_batch, record_file, record_file_quarantine
from ingest.report import DayLoad, FileResult, LoadReport
from ingest.working import TargetSyncError, Working, open_working

if TYPE_CHECKING:
    from kam_warehouse.core.warehouse import WarehouseTarget
    from kam_warehouse.core.warehouse.duckdb_limits import DuckDBLimits

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

#: crm first: accounts must exist before billing rows referencing them are checked
SOURCE_ORDER = ("crm", "billing")


def load_day(
    landing_dir: Path,
    target: WarehouseTarget,
    *,
    source: str,
    day: date,
    run_id: str,
    rejected_dir: Path,
    working_db: Path | None = None,
    limits: DuckDBLimits | None = None,
) -> DayLoad:
    """Load one complete day folder of one source (a no-op, `applied=False`, if already loaded).
    `working_db`: the local DuckDB working file, needed when `target` is not an embedded DuckDB file.

    Raises FileRejected (nothing of the day applied), IngestError (folder not complete) or
    TargetSyncError (the target could not take the day; nothing of it is loaded).
    """
    with open_working(target, working_db, limits) as w:
        return _load_day(w, Path(landing_dir), source, day, run_id, Path(rejected_dir), None)


def load_landing(
    landing_dir: Path,
    target: WarehouseTarget,
    *,
    run_id: str,
    rejected_dir: Path,
    sources: Iterable[str] = SOURCES,
    through_day: date | None = None,
    progress: Progress | None = None,
    working_db: Path | None = None,
    limits: DuckDBLimits | None = None,
) -> LoadReport:
    """Load every complete, not yet loaded day folder per source in date order (crm before billing on
    the same day). Files changed after they were loaded are reported, never reloaded; landing entries
    that are not read are listed in `LoadReport.notices`. If a day was rejected, its source stops at
    that day, the other sources still load, then FileRejected is raised naming every rejected file
    (`problems`) and carrying the LoadReport. `target`: a Warehouse or the path of an embedded DuckDB
    file; `working_db`: the local DuckDB working file, needed when it is not embedded DuckDB. When the
    target cannot take a day, TargetSyncError stops the load (that day and later ones load next run).
    A file DuckDB cannot read under `limits`' memory_limit stops the load with LoadOutOfMemory (no file
    rejected, nothing of that day loaded: kam_warehouse's setting, not the file, must change).
    `limits`: the DuckDB memory limit and spill folder of the load (Settings.duckdb_limits())."""
    landing_dir, rejected_dir = Path(landing_dir), Path(rejected_dir)
    ordered = sorted(set(sources), key=lambda s: SOURCE_ORDER.index(s) if s in SOURCE_ORDER else len(SOURCE_ORDER))
    report = LoadReport(run_id)
    found = survey(landing_dir, ordered)
    report.notices += found.notices
    rejections: dict[str, FileRejected] = {s: FileRejected(s, p) for s, p in found.refused.items()}
    with open_working(target, working_db, limits) as w:
        con = w.con
        report.warnings += w.last_resync.messages(w.describe())
        for source in ordered:
            report.changed += _changes(w, landing_dir, source, run_id, report)
        report.warnings += [f"{f.path}: {f.message}" for f in report.changed]
        pending = {s: [d for d in pending_in(con, landing_dir, s, found.complete[s])
                       if through_day is None or d <= through_day] for s in ordered}
        for day in sorted({d for days in pending.values() for d in days}):
            for source in ordered:
                if source in rejections or day not in pending[source]:
                    continue
                try:
                    report.days.append(_load_day(w, landing_dir, source, day, run_id, rejected_dir, progress))
                except FileRejected as exc:
                    rejections[source] = exc
                    if exc.day_load:
                        report.days.append(exc.day_load)
                        report.rejected += [f for f in exc.day_load.files if f.status == "rejected"]
                except (TargetSyncError, LoadOutOfMemory):
                    raise  # the warehouse or its host, not a file: stop the whole load
                except Exception as exc:  # e.g. an unreadable day folder: stop this source, not the others
                    log.exception("loading %s %s failed", source, day)
                    where = f"{source}/{day.isoformat()}"
                    rejections[source] = FileRejected(where, _load_error(where, exc))
    if rejections:
        problems = [p for exc in rejections.values() for p in exc.problems]
        first = next(iter(rejections.values()))
        raise FileRejected(*problems[0], report=report, day_load=first.day_load, problems=problems)
    return report


def _changes(w: Working, landing_dir: Path, source: str, run_id: str, report: LoadReport) -> list[FileResult]:
    """`detect_changes`, with a file that cannot be read any more reported instead of stopping the load;
    the manifest rows it records are copied to the target."""
    recorded: set[str] = set()
    try:
        return detect_changes(w.con, landing_dir, source, run_id, recorded=recorded)
    except OSError as exc:
        report.warnings.append(f"{source}: loaded files could not be re-checked for changes ({exc.strerror})")
        return []
    finally:
        w.push(recorded)


def _load_day(
    w: Working,
    landing_dir: Path,
    source: str,
    day: date,
    run_id: str,
    rejected_dir: Path,
    progress: Progress | None,
) -> DayLoad:
    folder = day_dir(landing_dir, source, day)
    if inside_root(landing_dir, folder) and not is_complete(landing_dir, source, day):
        raise IngestError(f"{folder} is not complete (no _SUCCESS marker): not read; "
                          "wait for the source to finish writing it")
    batch = Batch(landing_dir, source, day, run_id, datetime.now(UTC).replace(tzinfo=None), nul_free=w.nul_free)
    day_load = DayLoad(source, day, batch.batch_id)
    con = w.con
    if day in loaded_days(con, source):
        day_load.applied = False
        return day_load
    problems = day_problems(landing_dir, source, day)
    with tempfile.TemporaryDirectory(prefix="kam-ingest-") as tmp:
        reads = [] if any(p.entity == "day_folder" for p in problems) else _read_all(
            con, batch, Path(tmp), problems)
        if problems:
            _reject_day(w, batch, day_load, reads, problems, rejected_dir, progress)
        _apply_all(w, batch, day_load, reads, rejected_dir, progress)
    return day_load


def _read_all(con: duckdb.DuckDBPyConnection, batch: Batch, tmp: Path, problems: list[FileProblem]) -> list[ReadFile]:
    """Read and check every entity file of the day; each file's problem is added to `problems`."""
    reads = []
    for e, path in day_files(batch.landing_dir, batch.source, batch.day):
        try:
            reads.append(read_file(con, batch, e, path, tmp))
        except FileRejected as exc:
            drop_tables(con, e)
            problems.append(FileProblem(path, e.name, exc.problem, copyable=True))
        except LoadOutOfMemory:
            raise  # the host's memory limit, not the file: stop the whole load, reject nothing
        except Exception as exc:  # an unexpected failure must reject the file, not stop the load
            log.exception("reading %s failed", batch.relative(path))
            drop_tables(con, e)
            problems.append(FileProblem(path, e.name, _load_error(batch.relative(path), exc), copyable=True))
    return reads


def _apply_all(
    w: Working,
    batch: Batch,
    day_load: DayLoad,
    reads: list[ReadFile],
    rejected_dir: Path,
    progress: Progress | None,
) -> None:
    """Apply the day's read files in one transaction; any failure rolls the whole day back and rejects it.
    The applied day is then copied to the target (when the working DB is not the target)."""
    con = w.con
    current: ReadFile | None = None
    con.begin()
    try:
        for current in reads:
            result = apply_file(con, batch, current)
            day_load.files.append(result)
        record_batch(con, batch, len(day_load.files))
        con.commit()
    except Exception as exc:
        con.rollback()
        log.exception("applying %s failed", batch.batch_id)
        if day_load.files:  # inserted in the day's transaction, now undone: say so, never "N rows loaded"
            log.warning("%s %s rolled back, nothing of it committed: %s", batch.source, batch.day, ", ".join(
                f"{r.path} ({r.rows_loaded} rows inserted, rolled back)" for r in day_load.files))
        for r in reads:
            drop_tables(con, r.entity)
        day_load.files = []
        if current is None:  # nothing of the day was being applied: the day folder itself failed
            folder = day_dir(batch.landing_dir, batch.source, batch.day)
            problem = FileProblem(folder, "day_folder", _load_error(batch.relative(folder), exc), copyable=False)
        else:
            problem = FileProblem(current.path, current.entity.name, _load_error(current.rel, exc), copyable=True)
        _reject_day(w, batch, day_load, [], [problem], rejected_dir, progress)
    w.push([batch.batch_id])
    for result in day_load.files:  # reached only after the commit
        _tell(progress, f"{result.path}: {result.rows_read} rows read, {result.rows_loaded} loaded, "
                        f"{result.rows_quarantined} quarantined (committed)")


def _load_error(rel: str, exc: BaseException) -> str:
    return f"load_error: {rel} could not be loaded ({type(exc).__name__}; the log has the details)"


def _reject_day(
    w: Working,
    batch: Batch,
    day_load: DayLoad,
    reads: list[ReadFile],
    problems: list[FileProblem],
    rejected_dir: Path,
    progress: Progress | None,
) -> None:
    """Record every problem of the day (manifest + quarantine row, copy aside) and raise FileRejected."""
    for r in reads:
        drop_tables(w.con, r.entity)
    results = [_record_rejection(w.con, batch, p, rejected_dir) for p in problems]
    w.push([batch.batch_id])
    day_load.files, day_load.applied = results, False
    for r in results:
        _tell(progress, f"{r.path}: REJECTED ({r.message}); {batch.source} {batch.day} not applied")
    listed = [(r.path, r.message or "") for r in results]
    raise FileRejected(*listed[0], day_load=day_load, problems=listed)


def _record_rejection(con: duckdb.DuckDBPyConnection, batch: Batch, problem: FileProblem, rejected_dir: Path) -> FileResult:
    """Manifest row (status 'rejected', rows 0) + a whole-file quarantine row, and a 0600 copy of the file
    (only of a regular file inside the landing root)."""
    info = _info_of(problem)
    result = FileResult(
        path=batch.relative(problem.path), source=batch.source, entity=problem.entity, rows_read=0,
        rows_loaded=0, rows_quarantined=0, status="rejected", message=problem.problem,
    )
    con.begin()
    record_file(con, batch, result, info)
    record_file_quarantine(con, batch, result)
    con.commit()
    if problem.copyable:
        target = rejected_dir / batch.source / batch.day.isoformat()
        try:
            _private_dirs(rejected_dir, target)
            copy_private(problem.path.resolve(), target / problem.path.name)
        except OSError as exc:
            log.error("rejected %s: %s; the copy to %s failed (%s)", result.path, problem.problem, target,
                      exc.strerror)
        else:
            log.warning("rejected %s: %s (copied to %s)", result.path, problem.problem, target)
    else:
        log.warning("rejected %s: %s (not copied)", result.path, problem.problem)
    return result


def _info_of(problem: FileProblem) -> FileInfo:
    """Size and sha256 of a rejected file; nothing is read of a file that may not be read or is gone."""
    if problem.copyable:
        try:
            return inspect_file(problem.path.resolve(), ())
        except OSError:
            pass
    return FileInfo(0, 0, "", None, True)


def _private_dirs(top: Path, target: Path) -> None:
    """Create `target` (under `top`) with every folder from `top` down owner-only (0700)."""
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    for folder in (top, *[p for p in target.parents if p.is_relative_to(top)], target):
        folder.chmod(0o700)


def copy_private(src: Path, dst: Path) -> None:
    """Copy `src` to `dst`, readable by the owner only (0600) from its first byte."""
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as out, src.open("rb") as f:
        os.fchmod(out.fileno(), 0o600)  # an existing copy keeps its old mode otherwise
        while chunk := f.read(CHUNK):
            out.write(chunk)


def _tell(progress: Progress | None, message: str) -> None:
    log.info(message)
    if progress:
        progress(message)
