"""Fault injection for the kill -9 tests: named points in the code where a test can kill the process.

`KAM_FAULT_POINT` (unset in normal operation: every fault_point call is then one dict lookup) names
where this process SIGKILLs itself:

    KAM_FAULT_POINT=publish:build_final        the first time that point is reached
    KAM_FAULT_POINT=publish:table_copied#3     the third time (points inside loops)
    KAM_FAULT_POINT=step:dbt_build:start+2.5   2.5 s after that point (a kill in the middle of a step)

SIGKILL cannot be caught: no `finally`, no atexit, no flush — exactly a crash or the OOM killer.
The points: `step:<step>:start|end` around every pipeline step (kam_warehouse.runlog), and inside
publish/rollback (kam_warehouse.serving.publish: ALL_POINTS lists them). tests/faults and
benchmarks/fault_inject.py drive them.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from collections import Counter

ENV = "KAM_FAULT_POINT"
_SPEC = re.compile(r"^(?P<name>[^#+]+)(?:#(?P<nth>\d+))?(?:\+(?P<delay>\d+(?:\.\d+)?))?$")
_hits: Counter[str] = Counter()


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def fault_point(name: str) -> None:
    """Kill this process here if KAM_FAULT_POINT names this point (see module docstring)."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    m = _SPEC.match(spec.strip())
    if m is None or m["name"] != name:
        return
    _hits[name] += 1
    if _hits[name] != int(m["nth"] or 1):
        return
    if m["delay"]:
        timer = threading.Timer(float(m["delay"]), _kill)
        timer.daemon = True
        timer.start()
    else:
        _kill()
