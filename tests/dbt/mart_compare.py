"""Compare the relations of one schema built by dbt on two engines, row for row.

Rows are fetched whole from both sides (DuckDB and a DB-API connection such as psycopg2), matched by
sorting on every column (floats last, so a float difference cannot misalign rows) and compared cell
by cell: exact decimals (money) must be equal and decimal on both sides, floats agree to 1e-12
(relative, or absolute near zero), everything else equal. Each difference is described with its
relation, row and column.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

FLOAT_TOLERANCE = 1e-12


class Cursor(Protocol):
    description: Any

    def execute(self, sql: str, params: Any = ...) -> Any: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


@dataclass(frozen=True)
class Relation:
    """Rows of one relation on one engine, columns in order."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def _sort_key(row: Sequence[Any]) -> tuple[Any, ...]:
    """Non-float cells first (None before values, each type in its own slot), floats after."""
    exact: list[tuple[int, str, Any]] = []
    floats: list[tuple[int, float]] = []
    for cell in row:
        if isinstance(cell, float):
            floats.append((1, cell))
        elif cell is None:
            exact.append((0, "", ""))
        elif isinstance(cell, dt.date | dt.datetime):
            exact.append((1, "date", cell.isoformat()))
        elif isinstance(cell, bool | int | Decimal):
            exact.append((1, "number", Decimal(cell)))
        else:
            exact.append((1, type(cell).__name__, str(cell)))
    return (*exact, *floats)


def fetch_relation(cursor: Cursor, qualified_name: str) -> Relation:
    cursor.execute(f"select * from {qualified_name}")
    rows = cursor.fetchall()
    columns = tuple(str(d[0]) for d in cursor.description)
    return Relation(columns=columns, rows=tuple(sorted((tuple(r) for r in rows), key=_sort_key)))


def cell_difference(left: Any, right: Any) -> str | None:
    """Why two cells differ, or None when they agree (see the module docstring for the rules)."""
    if left is None or right is None:
        return None if left is None and right is None else "null on one side only"
    if isinstance(left, float) or isinstance(right, float):
        if not (isinstance(left, float) and isinstance(right, float)):
            return f"float on one side only ({type(left).__name__} vs {type(right).__name__})"
        if math.isclose(left, right, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE):
            return None
        return f"floats differ by {abs(left - right):.3g}"
    if isinstance(left, Decimal) or isinstance(right, Decimal):
        if not (isinstance(left, Decimal) and isinstance(right, Decimal)):
            return f"decimal on one side only ({type(left).__name__} vs {type(right).__name__})"
        return None if left == right else f"decimals differ by {abs(left - right)}"
    return None if left == right else "values differ"


def compare_relations(name: str, left: Relation, right: Relation, *, limit: int = 20) -> list[str]:
    """Differences between two builds of relation `name` (empty when they agree)."""
    if left.columns != right.columns:
        return [f"{name}: columns differ: {left.columns} vs {right.columns}"]
    if len(left.rows) != len(right.rows):
        return [f"{name}: {len(left.rows)} rows vs {len(right.rows)} rows"]
    problems: list[str] = []
    for index, (lrow, rrow) in enumerate(zip(left.rows, right.rows, strict=True)):
        for column, lcell, rcell in zip(left.columns, lrow, rrow, strict=True):
            why = cell_difference(lcell, rcell)
            if why:
                problems.append(f"{name} row {index}: column {column}: {lcell!r} vs {rcell!r}: {why}; "
                                f"row {dict(zip(left.columns, lrow, strict=True))}")
                if len(problems) >= limit:
                    return problems
    return problems


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def relations_of(cursor: Cursor, schema: str) -> set[str]:
    """The tables and views of `schema` (any DB-API cursor: the schema is inlined, no placeholder style)."""
    literal = "'" + schema.replace("'", "''") + "'"
    cursor.execute(f"select table_name from information_schema.tables where table_schema = {literal}")
    return {str(r[0]) for r in cursor.fetchall()}


def columns_of(cursor: Cursor, relation: str) -> tuple[str, ...]:
    """The columns of `relation` (a qualified, quoted name), in order, as a query returns them."""
    cursor.execute(f"select * from {relation} limit 0")
    cursor.fetchall()
    return tuple(str(d[0]) for d in cursor.description)


def compare_schema(left: Any, right: Any, schema: str, *, skip_columns: frozenset[str] = frozenset(),
                   limit: int = 40) -> tuple[list[str], int]:
    """Compare schema `schema` on two DB-API connections (DuckDB, psycopg2): the same relations, each
    with the same columns in the same order and equal rows (`compare_relations`), leaving out
    `skip_columns` (e.g. the columns naming the run that wrote a row). Returns (differences, rows
    compared); stops after about `limit` differences."""
    ours, theirs = relations_of(left.cursor(), schema), relations_of(right.cursor(), schema)
    problems: list[str] = []
    if ours != theirs:
        problems.append(f"{schema}: relations differ: only on the left {sorted(ours - theirs)}, "
                        f"only on the right {sorted(theirs - ours)}")
    rows = 0
    for name in sorted(ours & theirs):
        relation = f"{_quoted(schema)}.{_quoted(name)}"
        columns = [c for c in columns_of(left.cursor(), relation) if c not in skip_columns]
        other = [c for c in columns_of(right.cursor(), relation) if c not in skip_columns]
        if columns != other:
            problems.append(f"{name}: columns differ: {tuple(columns)} vs {tuple(other)}")
            continue
        select = f"(select {', '.join(_quoted(c) for c in columns)} from {relation}) as t"
        on_left = fetch_relation(left.cursor(), select)
        rows += len(on_left.rows)
        problems += compare_relations(name, on_left, fetch_relation(right.cursor(), select))
        if len(problems) >= limit:
            break
    return problems, rows
