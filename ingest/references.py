"""Reference checks of the fast path (`ingest.scan`): unknown keys found after the scan, per column.

The scan checks every column but the references. Here the distinct values of each reference column
missing from the referenced raw table (rows loaded so far, this day included) are collected, usually
none; only when some exist is the row's first failure recomputed: an unknown reference wins over the
scan's failure when its column comes first in contract order.
"""

from __future__ import annotations

import duckdb

from ingest.contract import Entity, entity
from ingest.stage import count_rows, ident, literal
from ingest.validate import reference_reason


def missing_keys_table(e: Entity, column: str) -> str:
    return f"_ingest_missing_{e.name}_{column}"


def first_failure_sql(con: duckdb.DuckDBPyConnection, e: Entity, scan: str) -> tuple[str, str]:
    """(LEFT JOINs over `scan` aliased `s`, SQL of each row's first failure `_err`) with the reference
    checks added. Creates one temp table of unknown keys per reference column that has any."""
    names = "[" + ", ".join(literal(c.name) for c in e.columns) + "]"
    position = f"coalesce(list_position({names}, s._err.col), {len(e.columns) + 1})"
    joins, whens = [], []
    for pos, c in enumerate(e.columns, start=1):
        if not c.references:
            continue
        target, v = entity(*c.references), ident(c.name)
        missing = missing_keys_table(e, c.name)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {missing} AS SELECT DISTINCT s.{v} AS _key FROM {scan} s
                WHERE s.{v} IS NOT NULL AND NOT EXISTS
                    (SELECT 1 FROM {target.raw_table} r WHERE r.{ident(target.key[0])} = s.{v})"""
        )
        if count_rows(con, missing) == 0:
            con.execute(f"DROP TABLE {missing}")
            continue
        alias = f"_m{pos}"
        joins.append(f"LEFT JOIN {missing} {alias} ON {alias}._key = s.{v}")
        whens.append(
            f"WHEN {alias}._key IS NOT NULL AND {position} > {pos} "
            f"THEN {{'col': {literal(c.name)}, 'reason': {reference_reason(c)}}}"
        )
    err = f"CASE {' '.join(whens)} ELSE s._err END" if whens else "s._err"
    return "\n".join(joins), err


def drop_missing_keys(con: duckdb.DuckDBPyConnection, e: Entity) -> None:
    for c in e.columns:
        if c.references:
            con.execute(f"DROP TABLE IF EXISTS {missing_keys_table(e, c.name)}")
