"""Comments on tables the Python steps create (ops.dq_results, ops.pipeline_runs, ops.tier_changes, ...).

dbt writes the comments of its models (persist_docs); a table created by Python DDL describes itself
here, next to its DDL, so every table readers see in serving.duckdb says what it holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from kam_warehouse.core.warehouse.sql import string_literal


class _Executes(Protocol):
    def execute(self, query: str, parameters: object = ..., /) -> object: ...


def comment_table(con: _Executes, table: str, description: str | None, columns: Mapping[str, str]) -> None:
    """COMMENT ON the table `table` ([catalog.]schema.name, quoted as needed) and each of `columns`
    (name -> description); a description of None leaves the table's comment as it is."""
    if description is not None:
        con.execute(f"COMMENT ON TABLE {table} IS {string_literal(description)}")
    for column, text in columns.items():
        con.execute(f'COMMENT ON COLUMN {table}."{column}" IS {string_literal(text)}')
