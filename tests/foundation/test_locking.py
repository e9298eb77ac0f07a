"""The build warehouse has one writer: a second `kam run` is refused with an actionable message."""

import subprocess
import sys
from pathlib import Path

import pytest

from kam_warehouse.errors import WarehouseLocked
from kam_warehouse.locking import warehouse_lock

HOLD = """
import sys, time
from pathlib import Path
from kam_warehouse.locking import warehouse_lock
with warehouse_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(30)
"""


def test_second_process_is_refused_while_the_lock_is_held(tmp_path: Path) -> None:
    """While another process holds the lock, taking it raises WarehouseLocked naming the holder and the file."""
    lock = tmp_path / ".build.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseLocked, match=r"pid \d+.*\.build\.lock"), warehouse_lock(lock):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_lock_is_released_when_the_holder_dies(tmp_path: Path) -> None:
    """A killed run does not leave a stale lock behind (flock is released by the kernel)."""
    lock = tmp_path / ".build.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    with warehouse_lock(lock):
        pass
