"""Small pyarrow helpers shared by the generators."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def with_columns(table: pa.Table, **columns: np.ndarray | pa.Array) -> pa.Table:
    """`table` with the named columns replaced (cast to their existing types)."""
    for name, values in columns.items():
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, pa.array(values, type=table.schema.field(name).type))
    return table
