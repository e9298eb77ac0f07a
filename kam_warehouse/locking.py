"""The build warehouse has one writer at a time: every writer — `kam run/load/close/publish/tiers override`
and every Airflow task that writes — goes through this module.

Two mechanisms, one lock file (`Settings.lock_file`, `<warehouse>/.build.lock`):

1. **The write lock** — `warehouse_lock(lock_file, *, owner, wait_seconds=0, lease=None)`: an exclusive
   `flock` held for as long as one process writes. The kernel drops it when the process dies (kill -9
   included), so it can never go stale. The holder (owner, pid, host, since) is written into the file so
   a refused writer can say who is busy.

       from kam_warehouse.locking import warehouse_lock
       with warehouse_lock(settings.lock_file, owner="kam run", wait_seconds=30):
           ...  # write build.duckdb

   When the lock (or a lease, below) is held by someone else, it waits up to `wait_seconds` (0: do not
   wait) and then raises `kam_warehouse.errors.WarehouseLocked` whose message starts with
   "busy: the build warehouse is held by <owner> (pid <pid> on <host>) since <UTC time>" and names the
   lock file — one paragraph for `kam`'s error output, never a traceback. `warehouse_lock(lock_file)`
   (no keywords) still works: owner defaults to the command line.

2. **The run lease** — `acquire_lease(lock_file, holder, ...)` / `release_lease(lock_file, holder)`: an
   Airflow night is many task processes, but one writer. Its first task acquires a lease (file
   `<warehouse>/.build.lease`: holder = "<dag_id>/<run_id>", owner, pid, host, acquired_at, heartbeat_at),
   its teardown task releases it. While a lease is held, `warehouse_lock` refuses every writer that does
   not present the same `lease=` holder — another DAG's task, `kam run` on the command line — exactly as
   if the lock were held, so nothing can write between a night's first write and its publish. Each
   writer task of the leasing run refreshes the heartbeat. A lease whose heartbeat is older than
   `stale_after` (a killed worker, a run deleted while it held the lease) is broken by the next writer,
   with a warning in the log; `break_lease(lock_file)` breaks one by hand.

   Leases are taken and checked under the write lock, so "check then write" cannot race.

`describe_holder(lock_file)` returns the current holder's one-line description (or None) for status
output. See docs/operations.md ("One writer") for why the design is a lease rather than one big task.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from kam_warehouse.errors import WarehouseLocked

log = logging.getLogger(__name__)

#: a lease not refreshed for this long is taken to belong to a dead run (override per call)
DEFAULT_LEASE_STALE_AFTER = timedelta(hours=3)
POLL_SECONDS = 0.25


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def default_owner() -> str:
    """The command line of this process, shortened: 'kam run', 'airflow tasks ...'."""
    argv = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:3]]
    return " ".join(a for a in argv if a)[:80]


@dataclass(frozen=True)
class Holder:
    """Who holds the write lock (written into the lock file while held)."""

    owner: str
    pid: int
    host: str
    since: str

    def describe(self) -> str:
        return f"{self.owner} (pid {self.pid} on {self.host}) since {self.since}"


@dataclass(frozen=True)
class Lease:
    """A run-scoped claim on the build warehouse (the lease file's content)."""

    holder: str
    owner: str
    pid: int
    host: str
    acquired_at: str
    heartbeat_at: str

    def describe(self) -> str:
        return (f"{self.owner} (lease {self.holder}, last task pid {self.pid} on {self.host}) since "
                f"{_stamp(datetime.fromisoformat(self.acquired_at))}, last heartbeat "
                f"{_stamp(datetime.fromisoformat(self.heartbeat_at))}")

    def age(self, now: datetime) -> timedelta:
        return now - datetime.fromisoformat(self.heartbeat_at)


def lease_path(lock_file: Path) -> Path:
    return Path(lock_file).with_suffix(".lease")


def read_lease(lock_file: Path) -> Lease | None:
    """The current lease, or None. An unreadable lease file counts as a lease held by 'unknown'."""
    path = lease_path(lock_file)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Lease(**{k: data[k] for k in Lease.__dataclass_fields__})
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        stamp = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).isoformat()
        return Lease("unknown", f"unreadable lease file {path}", 0, "?", stamp, stamp)


def _write_lease(lock_file: Path, lease: Lease) -> None:
    """Replace the lease file atomically (always under the write lock). Its temporary is not a publish
    temporary (`.incoming`/`.partial`), which publish's clean-up would remove under a live writer; a killed
    writer's leftover temporary is removed here instead: under the lock no other lease write is running."""
    path = lease_path(lock_file)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(lease)), encoding="utf-8")
    os.replace(tmp, path)
    for leftover in path.parent.glob(f"{path.name}.*.tmp"):
        leftover.unlink(missing_ok=True)


def _remove_lease(lock_file: Path) -> None:
    lease_path(lock_file).unlink(missing_ok=True)


def _busy(what: str, lock_file: Path, waited: float) -> WarehouseLocked:
    waited_text = f" after waiting {waited:.1f} s" if waited > 0.05 else ""
    return WarehouseLocked(
        f"busy: the build warehouse is held by {what}{waited_text}; lock file {lock_file}. "
        "Only one writer at a time: wait for it to finish (a scheduled night ends with its publish), "
        "or retry with a longer wait. A killed process releases the lock by itself; a lease of a run that "
        "no longer exists is broken automatically once its heartbeat is stale."
    )


def _try_flock(fh: IO[str]) -> bool:
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_holder(fh: IO[str]) -> str:
    fh.seek(0)
    text = fh.read().strip()
    try:
        return Holder(**json.loads(text)).describe()
    except (ValueError, TypeError):
        return text or "another process"


def _conflicting_lease(lock_file: Path, lease: str | None, stale_after: timedelta) -> Lease | None:
    """The lease that keeps this writer out (held by another run and fresh), breaking a stale one."""
    current = read_lease(lock_file)
    if current is None or current.holder == lease:
        return None
    if current.age(_now()) > stale_after:
        log.warning("breaking the stale warehouse lease of %s: no heartbeat for %s (more than %s)",
                    current.describe(), current.age(_now()), stale_after)
        _remove_lease(lock_file)
        return None
    return current


@contextmanager
def warehouse_lock(lock_file: Path, *, owner: str | None = None, wait_seconds: float = 0,
                   lease: str | None = None,
                   stale_after: timedelta = DEFAULT_LEASE_STALE_AFTER) -> Iterator[Holder]:
    """Hold the exclusive write lock on the build warehouse for the `with` block (see module docstring).

    `lease`: the run lease this writer belongs to (Airflow tasks of a leasing run); a lease held by
    anyone else refuses the writer like a held lock. Raises WarehouseLocked after `wait_seconds`.
    """
    lock_file = Path(lock_file)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    me = Holder(owner or default_owner(), os.getpid(), socket.gethostname(), _stamp(_now()))
    started = time.monotonic()
    with open(lock_file, "a+", encoding="utf-8") as fh:
        while True:
            blocker: str | None = None
            if not _try_flock(fh):
                blocker = _read_holder(fh)
            else:
                conflict = _conflicting_lease(lock_file, lease, stale_after)
                if conflict is None:
                    break
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
                blocker = conflict.describe()
            waited = time.monotonic() - started
            if waited >= wait_seconds:
                raise _busy(blocker, lock_file, waited)
            time.sleep(min(POLL_SECONDS, max(wait_seconds - waited, 0.01)))
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(asdict(me)))
        fh.flush()
        if lease is not None:
            _heartbeat(lock_file, lease)
        try:
            yield me
        finally:
            if lease is not None:
                _heartbeat(lock_file, lease)
            fh.seek(0)
            fh.truncate()
            fh.flush()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _heartbeat(lock_file: Path, holder: str) -> None:
    current = read_lease(lock_file)
    if current is not None and current.holder == holder:
        _write_lease(lock_file, replace(current, pid=os.getpid(), host=socket.gethostname(),
                                        heartbeat_at=_now().isoformat()))


def acquire_lease(lock_file: Path, holder: str, *, owner: str, wait_seconds: float = 0,
                  stale_after: timedelta = DEFAULT_LEASE_STALE_AFTER) -> Lease:
    """Claim the build warehouse for a run (`holder`, e.g. "kam_nightly/<run_id>") until release_lease.

    Re-acquiring one's own lease (a retried or cleared first task) refreshes it. Raises WarehouseLocked
    (after `wait_seconds`) while another process writes or another run holds a fresh lease.
    """
    with warehouse_lock(lock_file, owner=owner, wait_seconds=wait_seconds, lease=holder,
                        stale_after=stale_after):
        current = read_lease(lock_file)
        now = _now().isoformat()
        lease = Lease(holder, owner, os.getpid(), socket.gethostname(),
                      current.acquired_at if current is not None else now, now)
        _write_lease(lock_file, lease)
    log.info("warehouse lease acquired by %s", lease.describe())
    return lease


def release_lease(lock_file: Path, holder: str) -> bool:
    """Give the lease back; True if `holder` held it (releasing a lease one does not hold is a no-op)."""
    current = read_lease(lock_file)
    if current is None or current.holder != holder:
        return False
    with warehouse_lock(lock_file, owner=f"release {holder}", wait_seconds=60, lease=holder):
        _remove_lease(lock_file)
    log.info("warehouse lease of %s released", holder)
    return True


def break_lease(lock_file: Path) -> Lease | None:
    """Remove whatever lease is held (manual recovery); return it. Waits for a running writer first."""
    current = read_lease(lock_file)
    if current is None:
        return None
    with warehouse_lock(lock_file, owner="break lease", wait_seconds=60, lease=current.holder):
        _remove_lease(lock_file)
    log.warning("warehouse lease of %s broken by hand", current.describe())
    return current


def describe_holder(lock_file: Path) -> str | None:
    """Who holds the warehouse right now (the lease first, then the write lock), or None when free."""
    current = read_lease(lock_file)
    if current is not None:
        return current.describe()
    lock_file = Path(lock_file)
    if not lock_file.exists():
        return None
    with open(lock_file, "a+", encoding="utf-8") as fh:
        if _try_flock(fh):
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return None
        return _read_holder(fh)
