"""Table checksums of a published warehouse: proof that two publishes hold the same data, to the bit.

`checksums(db)` gives, per table of `marts` and `ops`, the md5 of its rows' sorted text (DuckDB and
PostgreSQL print a double with its shortest round-trip digits, so two floats differing in the last bit
differ here).
The columns in VOLATILE are left out: they name the run, the clock or the process, and differ between
two runs of the same extracts by design. Everything else must be equal (the determinism test, the
fault-injection test and benchmarks/fault_inject.py compare with this).
"""

from __future__ import annotations

from collections.abc import Mapping

from kam_warehouse.core.warehouse import WarehouseTarget, connect

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
SKIPPED_TABLES = frozenset({"marts._publish_info", "ops.publish_info"})


def checksums(db: WarehouseTarget, *, schemas: tuple[str, ...] = ("marts", "ops"),
              locations: Mapping[str, str] | None = None) -> dict[str, str]:
    """`schema.table` -> md5 of its rows (sorted text of each row, VOLATILE columns left out).

    `db` is a serving warehouse (Settings.serving: serving.duckdb or a server's marts/ops) or the path
    of a DuckDB file. A row's text is its columns' text (NULL as \\N) joined by tabs, in the same SQL on
    every engine; compare checksums of one engine only (each prints timestamps its own way).
    `locations` maps a path to a placeholder replaced in every row's text, e.g. {"/srv/wh1": "<warehouse>"}:
    ops tables name the warehouse folder (the gate's dbt results row names <warehouse>/dbt/target),
    which differs between two warehouses by construction.
    """
    out: dict[str, str] = {}
    with connect(db, read_only=True) as con:
        for schema in schemas:
            for table, kind in con.relations(schema):
                name = f"{schema}.{table}"
                if kind != "table" or name in SKIPPED_TABLES:
                    continue
                cols = [c for c, _ in con.columns(schema, table) if c not in VOLATILE.get(name, ())]
                text = " || chr(9) || ".join(f"coalesce(CAST({_q(c)} AS VARCHAR), '\\N')" for c in cols) or "''"
                params: list[str] = []
                for path, placeholder in (locations or {}).items():
                    text = f"replace({text}, ?, ?)"
                    params += [path, placeholder]
                out[name] = con.scalar(
                    f"SELECT md5(coalesce(string_agg(t, chr(10) ORDER BY t), '')) "
                    f"FROM (SELECT {text} AS t FROM {_q(schema)}.{_q(table)}) AS rows_text", params) or ""
    return dict(sorted(out.items()))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def differing(a: Mapping[str, str], b: Mapping[str, str]) -> list[str]:
    """Tables whose checksums differ or that only one side has."""
    return sorted(t for t in set(a) | set(b) if a.get(t) != b.get(t))
