"""The landing zone layout: <root>/<source>/<YYYY-MM-DD>/<entity file>, complete when `_SUCCESS` exists.

Read-only: nothing here (or anywhere in ingest) writes to the landing zone.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from ingest.contract import Entity, entities_of, file_names

SUCCESS_MARKER = "_SUCCESS"


def day_dir(landing_dir: Path, source: str, day: date) -> Path:
    return Path(landing_dir) / source / day.isoformat()


def is_complete(landing_dir: Path, source: str, day: date) -> bool:
    """True when the day folder holds its `_SUCCESS` marker (a folder without it is still being written)."""
    return (day_dir(landing_dir, source, day) / SUCCESS_MARKER).is_file()


def complete_days(landing_dir: Path, source: str) -> list[date]:
    """Every complete day folder of `source`, in date order (folders not named YYYY-MM-DD are ignored)."""
    root = Path(landing_dir) / source
    if not root.is_dir():
        return []
    days = []
    for child in root.iterdir():
        try:
            day = date.fromisoformat(child.name)
        except ValueError:
            continue
        if child.is_dir() and child.name == day.isoformat() and is_complete(landing_dir, source, day):
            days.append(day)
    return sorted(days)


def loaded_days(con: duckdb.DuckDBPyConnection, source: str) -> set[date]:
    """Days of `source` already applied (raw.load_batches); the raw schema must exist."""
    rows = con.execute(
        "SELECT DISTINCT extract_day FROM raw.load_batches WHERE source = ?", [source]
    ).fetchall()
    return {r[0] for r in rows}


def pending_days(landing_dir: Path, db_path: Path, source: str) -> list[date]:
    """Complete (`_SUCCESS`) days of `source` not yet loaded into `db_path`, in date order."""
    if not Path(db_path).exists():
        return complete_days(landing_dir, source)
    with duckdb.connect(str(db_path), read_only=True) as con:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'raw' AND table_name = 'load_batches'"
        ).fetchone()
        if not (exists and exists[0]):
            return complete_days(landing_dir, source)
        return pending_in(con, landing_dir, source)


def pending_in(con: duckdb.DuckDBPyConnection, landing_dir: Path, source: str) -> list[date]:
    """`pending_days` on an open connection whose raw schema exists."""
    done = loaded_days(con, source)
    return [d for d in complete_days(landing_dir, source) if d not in done]


def day_files(landing_dir: Path, source: str, day: date) -> list[tuple[Entity, Path]]:
    """The entity files present in a day folder, in contract order (referenced entities first).

    An entity may be absent (no changes that day). When several accepted names exist (accounts.csv and
    accounts.xlsx) the first in the contract's order of preference is used.
    """
    folder = day_dir(landing_dir, source, day)
    found = []
    for e in entities_of(source):
        for name in file_names(e):
            if (folder / name).is_file():
                found.append((e, folder / name))
                break
    return found


def unknown_files(landing_dir: Path, source: str, day: date) -> list[Path]:
    """Files in a day folder that are neither the marker nor an accepted entity file (reported, not read)."""
    folder = day_dir(landing_dir, source, day)
    known = {SUCCESS_MARKER} | {n for e in entities_of(source) for n in file_names(e)}
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name not in known)
