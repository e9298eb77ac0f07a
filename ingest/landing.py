"""The landing zone layout: <root>/<source>/<YYYY-MM-DD>/<entity file>, complete when `_SUCCESS` exists.

The landing root is a boundary: every source folder, day folder and file is resolved, and anything
whose real path is outside the root (a symlink out) is refused, never read and never copied. Nothing
in a day folder is ignored: a file that is not a contract entity file (`invoices .csv`,
`Payments.CSV`, `notes.txt`) rejects its day. Folders that are not a valid `YYYY-MM-DD` date and day
folders without `_SUCCESS` are reported (`survey(...).notices`), not read.

Read-only: nothing here (or anywhere in ingest) writes to the landing zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.contract import SOURCES, Entity, entities_of, file_names

if TYPE_CHECKING:
    from kam_warehouse.core.warehouse import WarehouseTarget

SUCCESS_MARKER = "_SUCCESS"
OUTSIDE = "outside_landing_root"


@dataclass(frozen=True)
class FileProblem:
    """An entry of a day folder that rejects its day (found before any file is read)."""

    path: Path  # as named in the landing zone (not resolved)
    entity: str  # the contract entity it was taken for, "unknown" when none, "day_folder" for the folder
    problem: str  # starts with its class: unknown_file, ambiguous_file, not_a_regular_file, outside_landing_root
    #: a copy may go to rejected/ (a regular file inside the landing root)
    copyable: bool


@dataclass
class LandingSurvey:
    """What the landing zone holds per source, and everything in it that will not be read."""

    #: complete day folders per source, in date order (an escaping day folder is listed, to be refused)
    complete: dict[str, list[date]] = field(default_factory=dict)
    #: one line per entry not read: "billing/2026-01-07: no _SUCCESS yet, not read"
    notices: list[str] = field(default_factory=list)
    #: source -> why the whole source folder is refused (it resolves outside the landing root)
    refused: dict[str, str] = field(default_factory=dict)


def day_dir(landing_dir: Path, source: str, day: date) -> Path:
    return Path(landing_dir) / source / day.isoformat()


def is_complete(landing_dir: Path, source: str, day: date) -> bool:
    """True when the day folder holds its `_SUCCESS` marker (a folder without it is still being written)."""
    return (day_dir(landing_dir, source, day) / SUCCESS_MARKER).is_file()


def inside_root(landing_dir: Path, path: Path) -> bool:
    """True when the real path of `path` (symlinks resolved) is the landing root or inside it."""
    return Path(path).resolve().is_relative_to(Path(landing_dir).resolve())


def survey(landing_dir: Path, sources: tuple[str, ...] | list[str] = SOURCES) -> LandingSurvey:
    """Walk `<root>/<source>/` of each source: complete days, and a notice for every other entry."""
    result = LandingSurvey()
    for source in sources:
        result.complete[source] = _survey_source(Path(landing_dir), source, result)
    return result


def _survey_source(landing_dir: Path, source: str, result: LandingSurvey) -> list[date]:
    root = landing_dir / source
    if not root.exists() and not root.is_symlink():
        return []
    if not inside_root(landing_dir, root):
        result.refused[source] = (
            f"{OUTSIDE}: {source}/ resolves outside the landing root; the source folder is not read"
        )
        return []
    if not root.is_dir():
        result.notices.append(f"{source}: not a folder, not read")
        return []
    days = []
    for child in sorted(root.iterdir()):
        rel = f"{source}/{child.name}"
        day = _folder_date(child.name)
        if day is None:
            result.notices.append(f"{rel}: folder name is not a date YYYY-MM-DD, not read")
        elif not inside_root(landing_dir, child):
            days.append(day)  # listed so that the loader refuses it with a manifest row
        elif not child.is_dir():
            result.notices.append(f"{rel}: not a folder, not read")
        elif not (child / SUCCESS_MARKER).is_file():
            result.notices.append(f"{rel}: no {SUCCESS_MARKER} yet, not read")
        else:
            days.append(day)
    return sorted(days)


def _folder_date(name: str) -> date | None:
    try:
        day = date.fromisoformat(name)
    except ValueError:
        return None
    return day if name == day.isoformat() else None


def complete_days(landing_dir: Path, source: str) -> list[date]:
    """Every complete day folder of `source`, in date order (see `survey` for what is left out)."""
    return survey(landing_dir, (source,)).complete[source]


def loaded_days(con: Any, source: str) -> set[date]:
    """Days of `source` already applied (raw.load_batches); the raw schema must exist. `con`: a
    warehouse Connection of any engine or a DuckDB connection."""
    rows = con.execute(
        "SELECT DISTINCT extract_day FROM raw.load_batches WHERE source = ?", [source]
    ).fetchall()
    return {r[0] for r in rows}


def pending_days(landing_dir: Path, target: WarehouseTarget, source: str) -> list[date]:
    """Complete (`_SUCCESS`) days of `source` not yet loaded into `target` (a Warehouse, or the path of
    an embedded DuckDB file; on every engine its raw.load_batches is the truth), in date order."""
    from kam_warehouse.core.warehouse import as_warehouse

    warehouse = as_warehouse(target)
    if not warehouse.exists():
        return complete_days(landing_dir, source)
    with warehouse.connect(read_only=True) as con:
        if not con.has_relation("raw", "load_batches"):
            return complete_days(landing_dir, source)
        return pending_in(con, landing_dir, source)


def loaded_through(target: WarehouseTarget, source: str) -> date | None:
    """The latest day of `source` applied to `target` (a Warehouse of any engine, or the path of an
    embedded DuckDB file; its raw.load_batches), None when nothing is loaded or it does not exist."""
    from kam_warehouse.core.warehouse import as_warehouse

    warehouse = as_warehouse(target)
    if not warehouse.exists():
        return None
    with warehouse.connect(read_only=True) as con:
        if not con.has_relation("raw", "load_batches"):
            return None
        return con.scalar("SELECT max(extract_day) FROM raw.load_batches WHERE source = ?", [source])


def pending_in(con: Any, landing_dir: Path, source: str, complete: list[date] | None = None) -> list[date]:
    """`pending_days` on an open connection whose raw schema exists (`complete`: a survey's days)."""
    done = loaded_days(con, source)
    days = complete_days(landing_dir, source) if complete is None else complete
    return [d for d in days if d not in done]


def day_files(landing_dir: Path, source: str, day: date) -> list[tuple[Entity, Path]]:
    """The entity files of a day folder that `day_problems` does not refuse, in contract order
    (referenced entities first). An entity may be absent (no changes that day)."""
    folder = day_dir(landing_dir, source, day)
    if not inside_root(landing_dir, folder):
        return []
    found = []
    for e in entities_of(source):
        for name in file_names(e):
            path = folder / name
            if path.is_file() and inside_root(landing_dir, path):
                found.append((e, path))
                break
    return found


def day_problems(landing_dir: Path, source: str, day: date) -> list[FileProblem]:
    """Everything in a day folder that rejects the day before a file is read: the folder or a file
    resolving outside the root, an entry that is not a regular file, a file that is not a contract
    entity file, two files for one entity (accounts.csv and accounts.xlsx)."""
    folder = day_dir(landing_dir, source, day)
    rel = f"{source}/{day.isoformat()}"
    if not inside_root(landing_dir, folder):
        return [FileProblem(folder, "day_folder", f"{OUTSIDE}: {rel} resolves outside the landing root; not read",
                            copyable=False)]
    names = {n: e for e in entities_of(source) for n in file_names(e)}
    problems = []
    for child in sorted(folder.iterdir()):
        name = child.name
        entity = names.get(name) or names.get(_normalised(name))
        what = entity.name if entity else "unknown"
        if not inside_root(landing_dir, child):
            problems.append(FileProblem(
                child, what, f"{OUTSIDE}: {rel}/{name} resolves outside the landing root; not read, not copied",
                copyable=False))
        elif name != SUCCESS_MARKER and not child.is_file():
            problems.append(FileProblem(child, what, f"not_a_regular_file: {rel}/{name} is not a regular file",
                                        copyable=False))
        elif name != SUCCESS_MARKER and name not in names:
            hint = f"did you mean {_normalised(name)}? " if entity else ""
            expected = ", ".join([SUCCESS_MARKER, *names])
            problems.append(FileProblem(
                child, what, f"unknown_file: {rel + '/' + name!r} is not a file of the extract contract ({hint}"
                f"expected names: {expected})", copyable=True))
    problems += _ambiguous(folder, rel, source)
    return problems


def _ambiguous(folder: Path, rel: str, source: str) -> list[FileProblem]:
    """A problem per extra file of an entity delivered under more than one accepted name."""
    problems = []
    for e in entities_of(source):
        present = [n for n in file_names(e) if (folder / n).is_file()]
        for extra in present[1:]:
            problems.append(FileProblem(
                folder / extra, e.name,
                f"ambiguous_file: {rel} holds both {present[0]} and {extra} for {e.name}; deliver one",
                copyable=True))
    return problems


def _normalised(name: str) -> str:
    """The name as a contract name would be written: no whitespace, lower case."""
    return "".join(name.split()).lower()
