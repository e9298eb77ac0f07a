"""The build warehouse has one writer: the write lock and the run lease refuse a second writer with an
actionable "busy" message, wait a bounded time, and recover from killed holders."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kam_warehouse.errors import WarehouseLocked
from kam_warehouse.locking import (
    acquire_lease,
    break_lease,
    describe_holder,
    lease_path,
    read_lease,
    release_lease,
    warehouse_lock,
)

HOLD = """
import sys, time
from pathlib import Path
from kam_warehouse.locking import warehouse_lock
with warehouse_lock(Path(sys.argv[1]), owner="kam run"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(lock: Path, seconds: float = 30) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(lock), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_process_is_refused_while_the_lock_is_held(tmp_path: Path) -> None:
    """While another process holds the lock, taking it raises WarehouseLocked naming owner, pid, time, file."""
    lock = tmp_path / ".build.lock"
    holder = _holder(lock)
    try:
        busy = (rf"^busy: .*held by kam run \(pid {holder.pid} on .*\) since "
                r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC.*\.build\.lock")
        with pytest.raises(WarehouseLocked, match=busy), warehouse_lock(lock):
            pass
        assert f"pid {holder.pid}" in (describe_holder(lock) or "")
    finally:
        holder.kill()
        holder.wait()


def test_bounded_wait_gets_the_lock_once_the_holder_finishes(tmp_path: Path) -> None:
    """A writer with wait_seconds waits for a short holder and then proceeds; a too-short wait gives up."""
    lock = tmp_path / ".build.lock"
    holder = _holder(lock, seconds=1.0)
    try:
        with pytest.raises(WarehouseLocked, match="after waiting"), warehouse_lock(lock, wait_seconds=0.3):
            pass
        started = time.monotonic()
        with warehouse_lock(lock, owner="patient", wait_seconds=20):
            assert time.monotonic() - started < 15
    finally:
        holder.kill()
        holder.wait()


def test_lock_is_released_when_the_holder_dies(tmp_path: Path) -> None:
    """A killed run does not leave a stale lock behind (flock is released by the kernel)."""
    lock = tmp_path / ".build.lock"
    holder = _holder(lock)
    holder.kill()
    holder.wait()
    with warehouse_lock(lock):
        pass
    assert describe_holder(lock) is None


def test_lease_keeps_every_other_writer_out_until_released(tmp_path: Path) -> None:
    """A run's lease refuses other writers (and other leases) but admits the run's own tasks; release frees."""
    lock = tmp_path / ".build.lock"
    acquire_lease(lock, "kam_nightly/run1", owner="kam_nightly")
    with warehouse_lock(lock, owner="kam_nightly.publish", lease="kam_nightly/run1"):
        pass
    with pytest.raises(WarehouseLocked, match=r"busy: .*kam_nightly \(lease kam_nightly/run1"), warehouse_lock(lock):
        pass
    with pytest.raises(WarehouseLocked, match="lease kam_nightly/run1"):
        acquire_lease(lock, "finance_monthly/run7", owner="finance_monthly")
    assert release_lease(lock, "someone_else") is False
    assert release_lease(lock, "kam_nightly/run1") is True
    assert read_lease(lock) is None
    with warehouse_lock(lock, owner="kam run"):
        pass


def test_a_killed_writers_lease_temporary_is_swept_by_the_next_lease_write(tmp_path: Path) -> None:
    """A writer killed between writing the lease's temporary and renaming it leaves `.build.lease.<pid>.tmp`;
    the next lease write (under the lock) removes it and leaves only the lease itself."""
    lock = tmp_path / ".build.lock"
    leftover = lease_path(lock).with_name(f"{lease_path(lock).name}.999999.tmp")
    leftover.write_text("{", encoding="utf-8")
    acquire_lease(lock, "kam_nightly/run1", owner="kam_nightly")
    assert not leftover.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if "lease" in p.name) == [lease_path(lock).name]
    assert read_lease(lock).holder == "kam_nightly/run1"


def test_lease_survives_processes_and_is_refreshed_by_its_tasks(tmp_path: Path) -> None:
    """The lease is a file (held across task processes); each writer of the run refreshes its heartbeat."""
    lock = tmp_path / ".build.lock"
    first = acquire_lease(lock, "kam_nightly/run1", owner="kam_nightly")
    time.sleep(0.01)
    with warehouse_lock(lock, lease="kam_nightly/run1"):
        pass
    later = read_lease(lock)
    assert later is not None and later.acquired_at == first.acquired_at and later.heartbeat_at > first.heartbeat_at
    code = "import sys; from kam_warehouse.locking import warehouse_lock; warehouse_lock(sys.argv[1]).__enter__()"
    res = subprocess.run([sys.executable, "-c", code, str(lock)], capture_output=True, text=True)
    assert res.returncode != 0 and "busy:" in res.stderr


def test_stale_lease_of_a_killed_run_is_broken(tmp_path: Path) -> None:
    """A lease whose heartbeat is older than stale_after (its run was killed) no longer blocks writers."""
    lock = tmp_path / ".build.lock"
    acquire_lease(lock, "kam_nightly/dead", owner="kam_nightly")
    data = json.loads(lease_path(lock).read_text())
    data["heartbeat_at"] = (datetime.now(UTC) - timedelta(hours=5)).isoformat()
    lease_path(lock).write_text(json.dumps(data))
    with pytest.raises(WarehouseLocked), warehouse_lock(lock, stale_after=timedelta(hours=6)):
        pass
    with warehouse_lock(lock, stale_after=timedelta(hours=1)):
        pass
    assert read_lease(lock) is None


def test_break_lease_by_hand(tmp_path: Path) -> None:
    """break_lease removes a fresh lease (manual recovery) and returns what it removed."""
    lock = tmp_path / ".build.lock"
    acquire_lease(lock, "kam_nightly/r", owner="kam_nightly")
    broken = break_lease(lock)
    assert broken is not None and broken.holder == "kam_nightly/r"
    assert break_lease(lock) is None and describe_holder(lock) is None
