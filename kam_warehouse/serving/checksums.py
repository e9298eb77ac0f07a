"""Table checksums of a published warehouse: proof that two publishes hold the same data, to the bit.

`checksums(db)` gives, per table of `marts` and `ops`, the md5 of its rows' sorted text (DuckDB prints
a DOUBLE with its shortest round-trip digits, so two floats differing in the last bit differ here).
The columns in VOLATILE are left out: they name the run, the clock or the process, and differ between
two runs of the same extracts by design. Everything else must be equal (the determinism test, the
fault-injection test and benchmarks/fault_inject.py compare with this).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb

#: columns that legitimately differ between two runs of the same data (run ids, clocks, processes)
VOLATILE: Mapping[str, frozenset[str]] = {
    "marts.account_tier_history": frozenset({"run_id"}),
    "marts.mart_finance_close_versions": frozenset({"closed_at", "closed_by_run_id"}),
    "marts.mart_finance_concentration_closed": frozenset({"closed_at", "closed_by_run_id"}),
    "marts.mart_finance_concentration_by_segment_closed": frozenset({"closed_at"}),
    "marts.mart_finance_concentration_monthly_closed": frozenset({"closed_at"}),
    "marts.mart_finance_concentration_monthly_restated": frozenset({"closed_at"}),
    "marts.mart_finance_concentration_restatements": frozenset({"closed_at"}),
    "ops.dq_results": frozenset({"run_id", "checked_at"}),
    "ops.load_manifest": frozenset({"batch_id", "loaded_at"}),
    "ops.quarantine": frozenset({"batch_id", "quarantined_at"}),
    "ops.pipeline_runs": frozenset({"run_id", "started_at", "ended_at", "duration_s", "pid", "host", "message"}),
    "ops.tier_changes": frozenset({"run_id"}),
}
#: the publish's own identity (run id, time, source file): compared by nobody
SKIPPED_TABLES = frozenset({"marts._publish_info"})


def checksums(db: Path, *, schemas: tuple[str, ...] = ("marts", "ops"),
              locations: Mapping[str, str] | None = None) -> dict[str, str]:
    """`schema.table` -> md5 of its rows (sorted text of each row, VOLATILE columns left out).

    `locations` maps a path to a placeholder replaced in every row's text, e.g. {"/srv/wh1": "<warehouse>"}:
    ops tables name the warehouse folder (the gate's dbt results row names <warehouse>/dbt/target),
    which differs between two warehouses by construction.
    """
    out: dict[str, str] = {}
    text = "r::VARCHAR"
    params: list[str] = []
    for path, placeholder in (locations or {}).items():
        text = f"replace({text}, ?, ?)"
        params += [path, placeholder]
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE list_contains(?, schema_name) ORDER BY 1, 2",
            [list(schemas)]).fetchall()
        for schema, table in tables:
            name = f"{schema}.{table}"
            if name in SKIPPED_TABLES:
                continue
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
                "ORDER BY column_index", [schema, table]).fetchall() if c not in VOLATILE.get(name, ())]
            select = ", ".join('"' + c.replace('"', '""') + '"' for c in cols)
            row = con.execute(
                f"SELECT md5(coalesce(string_agg(t, chr(10) ORDER BY t), '')) "
                f'FROM (SELECT {text} AS t FROM (SELECT ({select}) AS r FROM {schema}."{table}"))', params).fetchone()
            out[name] = row[0] if row else ""
    return out


def differing(a: Mapping[str, str], b: Mapping[str, str]) -> list[str]:
    """Tables whose checksums differ or that only one side has."""
    return sorted(t for t in set(a) | set(b) if a.get(t) != b.get(t))
