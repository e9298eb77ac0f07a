"""The served history: which builds were actually served, in order (`builds/served.jsonl`).

One JSON line per swap of serving.duckdb: {"build", "run_id", "served_at", "action"}, action one of
`publish`, `rollback`, `recovered` (the next run found serving.duckdb holding a build whose record a
kill prevented). Lines are appended with O_APPEND and fsynced; a torn last line (a kill mid-write) is
ignored on reading and repaired by recovery. Rollback only ever targets builds named here, so a build
that was finalised but never swapped in (a run killed between the two) is never served by a rollback.
On a server warehouse the history is a table of the serving database (kam_publish.served, written
in the swap's transaction); served_history(settings) reads either.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from kam_warehouse.core.warehouse.publisher import schema_publisher
from kam_warehouse.settings import Settings

log = logging.getLogger(__name__)

HISTORY_FILE = "served.jsonl"
ACTIONS = frozenset({"publish", "rollback", "recovered", "seeded"})


@dataclass(frozen=True)
class Served:
    build: str
    run_id: str
    served_at: str
    action: str


def history_path(builds_dir: Path) -> Path:
    return builds_dir / HISTORY_FILE


def read_history(builds_dir: Path) -> list[Served]:
    """Every well-formed record, oldest first (a torn or foreign line is skipped with a warning)."""
    path = history_path(builds_dir)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    records: list[Served] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            records.append(Served(**{k: str(data[k]) for k in Served.__dataclass_fields__}))
        except (ValueError, KeyError, TypeError):
            log.warning("%s line %d is not a served-history record (a kill mid-append?); ignored", path, number)
    return records


def served_history(settings: Settings) -> list[Served]:
    """The served history of any engine, oldest first: builds/served.jsonl for the embedded warehouse,
    kam_publish.served (written in the swap's own transaction) for a server warehouse."""
    publisher = schema_publisher(settings.build, settings.serving)
    if publisher is None:
        return read_history(settings.builds_dir)
    return [Served(build=r.build, run_id=r.run_id, served_at=r.served_at.replace(tzinfo=UTC).isoformat(
        timespec="microseconds"), action=r.action) for r in publisher.history()]


def served_names(builds_dir: Path) -> set[str]:
    return {r.build for r in read_history(builds_dir)}


def last_served(builds_dir: Path) -> Served | None:
    records = read_history(builds_dir)
    return records[-1] if records else None


def record_served(builds_dir: Path, *, build: str, run_id: str, action: str) -> Served:
    """Append one record durably. A torn previous line is terminated first so this one stays parseable."""
    if action not in ACTIONS:
        raise ValueError(f"unknown served-history action {action!r}")
    entry = Served(build=build, run_id=run_id, action=action,
                   served_at=datetime.now(UTC).isoformat(timespec="microseconds"))
    path = history_path(builds_dir)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        prefix = "\n" if _ends_without_newline(path) else ""
        os.write(fd, (prefix + json.dumps(asdict(entry), sort_keys=True) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return entry


def _ends_without_newline(path: Path) -> bool:
    size = path.stat().st_size
    if size == 0:
        return False
    with open(path, "rb") as fh:
        fh.seek(size - 1)
        return fh.read(1) != b"\n"
