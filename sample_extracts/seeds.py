"""Independent, reproducible random streams: one per (seed, purpose[, chunk])."""

from __future__ import annotations

import zlib

import numpy as np


def rng_for(seed: int, purpose: str, *chunk: int) -> np.random.Generator:
    """A generator that depends only on the seed, a purpose name and chunk numbers (e.g. a month),
    so one stream's draws never shift another's."""
    return np.random.default_rng([seed, zlib.crc32(purpose.encode()), *chunk])
