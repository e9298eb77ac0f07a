"""Per-phase wall time of a load, logged at DEBUG on logger `ingest.timing` (the benchmark sums them).

Each record carries `phase` (name) and `seconds` attributes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the block and log it as phase `name` (only when DEBUG is on for `ingest.timing`)."""
    if not log.isEnabledFor(logging.DEBUG):
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - start
        log.debug("phase %s: %.3f s", name, seconds, extra={"phase": name, "seconds": seconds})
