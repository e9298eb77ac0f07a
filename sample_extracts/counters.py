"""Sequential surrogate numbers per entity, handed out in generation order (deterministic)."""

from __future__ import annotations

import numpy as np

from sample_extracts.ids import ID_FORMATS
from sample_extracts.options import GeneratorError


class IdCounter:
    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def take(self, column: str, n: int) -> np.ndarray:
        """The next n numbers for an id column (1-based); errors if they no longer fit its width."""
        first = self._next.get(column, 1)
        self._next[column] = first + n
        digits = ID_FORMATS[column][1]
        if first + n - 1 >= 10**digits:
            raise GeneratorError(f"too many {column} values for {digits}-digit ids; lower --accounts")
        return np.arange(first, first + n, dtype=np.int64)
