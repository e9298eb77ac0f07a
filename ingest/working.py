"""Where ingest works, on any warehouse.

Files are read, checked and applied on embedded DuckDB (the fastest CSV engine here). When the target
warehouse is itself an embedded DuckDB file, ingest works in it directly (nothing is copied). On any
other engine (PostgreSQL) it works in a local DuckDB **working file** (`<warehouse dir>/ingest.duckdb`)
holding a replica of the target's `raw` schema, and copies each write unit to the target:

- A write unit is everything ingest writes under one batch key (`<source>:<day>:<run_id>`): an applied
  day (its raw rows, quarantine rows, manifest rows and load_batches row), a rejected day (its manifest
  and whole-file quarantine rows), the `changed_after_load` manifest rows of one run and day.
- Each unit is committed to the working file first, then `push`ed to the target in ONE target
  transaction that replaces the target's rows of that key (delete by key, COPY the working file's rows
  of the key): pushing a unit twice leaves it once.
- **The target is the truth.** Every load starts with `resync`: per batch key, the manifest, batch and
  quarantine rows of both sides are compared; a key the working file holds and the target does not (a
  crash between the two commits) is dropped from the working file, so that day loads again; a key the
  target holds and the working file lacks or differs on (a new container, a lost or stale working
  file) is copied from the target. A missing or unreadable working file is rebuilt from the target,
  and so is one whose tables' row counts still differ (rows outside every batch key).
  So a crash between the two commits neither loses nor duplicates a day, and everything ingest reads
  of "what is loaded" (loaded days, changed-file detection, reference keys) agrees with the target.
- A unique index on the target's raw.load_batches (source, extract_day) refuses a second load of a day
  racing in from another working file (another container); that load stops with TargetSyncError and
  its next run re-syncs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from ingest.contract import SOURCES
from ingest.errors import IngestError
from ingest.schema import ensure_raw_schema, raw_tables

if TYPE_CHECKING:
    import pyarrow as pa

    from kam_warehouse.core.warehouse import Connection, WarehouseTarget
    from kam_warehouse.core.warehouse.duckdb_limits import DuckDBLimits

log = logging.getLogger(__name__)

#: file name of the working file under the warehouse dir (local state, on every engine)
WORKING_FILE = "ingest.duckdb"
#: the points of a push, in order (a test may crash the process at one: `checkpoint`)
WORKING_COMMITTED = "ingest:working_committed"  # the unit is committed to the working file, not the target
TARGET_COPIED = "ingest:target_copied"  # the unit is in the target's open transaction, not committed


#: in a synced target, a (source, day) is loaded by one batch only: two loads of the same day racing
#: from two working files (two containers) cannot both commit, the second gets TargetSyncError
ONE_LOAD_PER_DAY = "CREATE UNIQUE INDEX IF NOT EXISTS load_batches_one_per_day ON raw.load_batches (source, extract_day)"


def _no_checkpoint(name: str) -> None:
    return None


#: called at each point of a push with its name; tests replace it to crash the process there
checkpoint: Callable[[str], None] = _no_checkpoint


class TargetSyncError(IngestError):
    """The target warehouse could not take (or give) ingest's rows; nothing of the unit is in it."""


def working_path(warehouse_dir: Path) -> Path:
    """Where the working file lives under the local state folder (Settings.warehouse_dir)."""
    return Path(warehouse_dir) / WORKING_FILE


@dataclass
class Resync:
    """What `resync` changed in the working file."""

    dropped: list[str] = field(default_factory=list)  # keys the target does not have
    copied: list[str] = field(default_factory=list)  # keys copied from the target
    rebuilt: bool = False  # the working file was missing or unreadable

    def messages(self, target: str) -> list[str]:
        """What an operator should know (LoadReport.warnings): days a stopped load had not copied."""
        if not self.dropped:
            return []
        return [f"{key}: a load stopped before copying it to {target}; loaded again by this run"
                for key in self.dropped]


@dataclass
class Working:
    """The DuckDB connection ingest scans, checks and applies in (`con`), and the target it feeds.
    `target` is None when `con` is the target's own connection (an embedded DuckDB warehouse)."""

    con: duckdb.DuckDBPyConnection
    target: Connection | None = None
    path: Path | None = None
    last_resync: Resync = field(default_factory=Resync)

    @property
    def synced(self) -> bool:
        return self.target is not None

    @property
    def nul_free(self) -> bool:
        """The target's text cannot hold a NUL character: ingest quarantines such values (`Batch.nul_free`)."""
        return self.target is not None and not self.target.text_holds_nul

    def describe(self) -> str:
        return self.target.warehouse.describe() if self.target is not None else str(self.path)

    # --- working file -> target
    def push(self, keys: Iterable[str]) -> None:
        """Copy the working file's rows of each batch key to the target in one transaction, replacing
        the target's rows of those keys. On failure the keys are dropped from the working file too
        (the target is the truth) and TargetSyncError is raised."""
        if self.target is None:
            return
        keys = sorted(set(keys))
        if not keys:
            return
        checkpoint(WORKING_COMMITTED)
        target = self.target
        units = [(table, column, _arrow(self.con, table, column, keys)) for table, column in raw_tables(_sources(keys))]
        try:
            with target.transaction():
                present = _present(target, keys)
                if present:
                    _delete(target, present)
                for table, _column, data in units:
                    if data.num_rows:
                        target.bulk_load(table, data)
                checkpoint(TARGET_COPIED)
        except target.errors as exc:
            log.error("copying %s to %s failed: %s", ", ".join(keys), self.describe(), exc)
            self._drop(keys)
            # the engine's text can quote a value (COPY's context): the message names only its type
            raise TargetSyncError(
                f"the load of {', '.join(keys)} could not be copied to the warehouse {self.describe()} "
                f"({type(exc).__name__}; the log has the details); nothing of it is in the warehouse, the next "
                "load re-syncs and loads what is missing") from exc
        log.info("copied %s to %s (%s)", ", ".join(keys), self.describe(),
                 ", ".join(f"{t} {d.num_rows}" for t, _c, d in units if d.num_rows))

    def _drop(self, keys: Sequence[str]) -> None:
        try:
            self.con.begin()
            _delete(self.con, keys)
            self.con.commit()
        except duckdb.Error:
            log.exception("dropping %s from the working file failed; the next load re-syncs it", keys)
            self.con.rollback()

    # --- target -> working file
    def resync(self, *, rebuilt: bool = False) -> Resync:
        """Make the working file's raw schema equal the target's, key by key (see the module docstring);
        when the tables' row counts still differ (rows outside every batch key, written by something
        other than ingest), rebuild it whole."""
        result = Resync(rebuilt=rebuilt)
        if self.target is None:
            return result
        theirs = self._read_target(fingerprint)
        ours = fingerprint(self.con)
        stale = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
        result.dropped = [k for k in stale if k not in theirs]
        result.copied = [k for k in stale if k in theirs]
        everything = bool(stale) and (not ours or set(result.copied) == set(theirs))
        if stale:
            self._repair(stale, result.copied, everything=everything)
        if not everything and self._read_target(row_counts) != row_counts(self.con):
            log.warning("working file %s: row counts differ from the warehouse %s outside the batch keys: rebuilt",
                        self.path, self.describe())
            result.copied, result.rebuilt = sorted(theirs), True
            self._repair([], result.copied, everything=True)
        if result.dropped:
            log.warning("working file %s held %s, which the warehouse %s does not (a load stopped between its "
                        "two commits): dropped, those days load again", self.path, ", ".join(result.dropped),
                        self.describe())
        if result.copied:
            log.warning("working file %s re-synced from the warehouse %s: %d batch keys copied", self.path,
                        self.describe(), len(result.copied))
        self.last_resync = result
        return result

    def _read_target(self, read: Callable[[Any], Any]) -> Any:
        assert self.target is not None
        try:
            return read(self.target)
        except self.target.errors as exc:
            raise TargetSyncError(f"cannot read what the warehouse {self.describe()} has loaded: "
                                  f"{type(exc).__name__}: {str(exc).strip()}") from exc

    def _repair(self, stale: Sequence[str], copied: Sequence[str], *, everything: bool) -> None:
        """In one working-file transaction: drop the stale keys (or everything) and copy the target's rows
        of `copied` (or all of them)."""
        assert self.target is not None
        self.con.begin()
        try:
            if everything:
                for table, _column in raw_tables():
                    self.con.execute(f"DELETE FROM {table}")
            else:
                _delete(self.con, stale)
            if everything or copied:
                self._copy_from_target(None if everything else list(copied))
            self.con.commit()
        except self.target.errors as exc:
            self.con.rollback()
            raise TargetSyncError(f"cannot copy what the warehouse {self.describe()} has loaded into the working "
                                  f"file {self.path}: {type(exc).__name__}: {str(exc).strip()}") from exc
        except BaseException:
            self.con.rollback()
            raise

    def _copy_from_target(self, keys: list[str] | None) -> None:
        assert self.target is not None
        for table, column in raw_tables():
            names = [c for c, _t in self.target.columns(*table.split("."))]
            select = f"SELECT {_columns(names)} FROM {table}"
            params: list[Any] = []
            if keys is not None:
                select += f" WHERE {column} IN ({_marks(keys)})"
                params = list(keys)
            data = self.target.fetch_text(select, params)  # the bulk path; the insert casts the text back
            if data.num_rows:
                _insert_arrow(self.con, table, data)


def fingerprint(con: Any) -> dict[str, tuple]:
    """Per batch key: its manifest, load_batches and quarantine rows in a few numbers. Every unit is
    written in one transaction on each side, so equal fingerprints mean equal rows (raw rows included:
    the manifest's rows_loaded counts them)."""
    found: dict[str, list] = {}
    queries = (
        "SELECT batch_id, count(*), CAST(sum(rows_read) AS BIGINT), CAST(sum(rows_loaded) AS BIGINT), "
        "CAST(sum(rows_quarantined) AS BIGINT), min(status), max(status), min(loaded_at), max(loaded_at) "
        "FROM raw.load_manifest GROUP BY batch_id",
        "SELECT batch_id, count(*), CAST(sum(files) AS BIGINT), max(loaded_at) FROM raw.load_batches "
        "GROUP BY batch_id",
        "SELECT batch_id, count(*), count(line_number), max(quarantined_at) FROM raw.quarantine GROUP BY batch_id",
    )
    for i, sql in enumerate(queries):
        for row in con.execute(sql).fetchall():
            found.setdefault(row[0], [None, None, None])[i] = tuple(row[1:])
    return {k: tuple(v) for k, v in found.items()}


def _sources(keys: Sequence[str]) -> list[str] | None:
    """The sources whose entity tables hold rows of these batch keys (`<source>:<day>:<run_id>`);
    None (every table) for a key of another shape."""
    sources = {k.split(":", 1)[0] for k in keys}
    return sorted(sources) if sources <= set(SOURCES) else None


def row_counts(con: Any) -> tuple:
    """The row count of every raw table ingest writes, in one statement."""
    counts = ", ".join(f"(SELECT count(*) FROM {table})" for table, _column in raw_tables())
    row = con.execute(f"SELECT {counts}").fetchone()
    return tuple(int(n) for n in row) if row else ()


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def _columns(names: Sequence[str]) -> str:
    return ", ".join('"' + n.replace('"', '""') + '"' for n in names)


def _present(con: Connection, keys: Sequence[str]) -> list[str]:
    """The keys the target has any rows of (every unit writes a manifest or a load_batches row)."""
    marks = _marks(keys)
    rows = con.execute(
        f"SELECT batch_id FROM raw.load_manifest WHERE batch_id IN ({marks}) UNION "
        f"SELECT batch_id FROM raw.load_batches WHERE batch_id IN ({marks}) UNION "
        f"SELECT batch_id FROM raw.quarantine WHERE batch_id IN ({marks})", [*keys, *keys, *keys]).fetchall()
    return sorted(r[0] for r in rows)


def _delete(con: Any, keys: Sequence[str]) -> None:
    for table, column in raw_tables():
        con.execute(f"DELETE FROM {table} WHERE {column} IN ({_marks(keys)})", list(keys))


def _arrow(con: duckdb.DuckDBPyConnection, table: str, column: str, keys: Sequence[str]) -> pa.Table:
    rel = con.sql(f"SELECT * FROM {table} WHERE {column} IN ({_marks(keys)})", params=list(keys))
    assert rel is not None
    return rel.to_arrow_table()


def _insert_arrow(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> None:
    view = "_ingest_resync"
    con.register(view, data)
    try:
        names = _columns(data.column_names)
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {view}")
    finally:
        con.unregister(view)


@contextmanager
def open_working(target: WarehouseTarget, working_db: Path | None = None,
                 limits: DuckDBLimits | None = None) -> Iterator[Working]:
    """The working connection for a load into `target` (a Warehouse, or the path of an embedded DuckDB
    file). An embedded DuckDB target is worked in directly; any other needs `working_db`, the local
    working file (`working_path(settings.warehouse_dir)`), which is re-synced from the target first.
    `limits` (Settings.duckdb_limits()): the memory limit and spill folder of the DuckDB instance the
    load works in; without them DuckDB takes 80% of the host's RAM."""
    from kam_warehouse.core.warehouse import connect

    target_con = connect(target)
    try:
        own = getattr(target_con, "raw", None)
        if isinstance(own, duckdb.DuckDBPyConnection):  # an embedded DuckDB file: the target is the working DB
            if limits is not None:
                limits.apply(own)
            ensure_raw_schema(own)
            yield Working(own, None, None)
            return
        if working_db is None:
            raise IngestError(f"loading into {target_con.warehouse.describe()} needs a local working file "
                              f"(working_db, e.g. <warehouse dir>/{WORKING_FILE})")
        try:
            ensure_raw_schema(target_con)
            target_con.execute(ONE_LOAD_PER_DAY)
        except target_con.errors as exc:
            raise TargetSyncError(f"cannot create the raw schema in {target_con.warehouse.describe()}: "
                                  f"{type(exc).__name__}: {str(exc).strip()}") from exc
        con, rebuilt = _open_file(Path(working_db))
        try:
            if limits is not None:
                limits.apply(con)
            ensure_raw_schema(con)
            working = Working(con, target_con, Path(working_db))
            working.resync(rebuilt=rebuilt)
            yield working
        finally:
            con.close()
    finally:
        target_con.close()


def _open_file(path: Path) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """Open (create) the working file; one that cannot be opened is replaced (it is a replica: the
    target is the truth), unless another process has it open (WarehouseInUse is raised: never delete
    a file in use). Returns (connection, whether it starts empty)."""
    from kam_warehouse.core.warehouse import WarehouseError, WarehouseInUse, connect

    fresh = not path.exists()
    try:
        con = connect(path).raw
    except WarehouseInUse:
        raise
    except WarehouseError as exc:
        log.warning("the working file %s cannot be opened (%s): rebuilt from the warehouse", path, exc)
        for stale in _files_of(path):
            stale.unlink(missing_ok=True)
        con, fresh = connect(path).raw, True
    for own in _files_of(path):  # raw rows, contact data included: the owner's only, like build.duckdb
        if own.exists():
            own.chmod(0o600)
    return con, fresh


def _files_of(path: Path) -> tuple[Path, Path]:
    """The working file and its write-ahead log."""
    return path, path.with_name(path.name + ".wal")
