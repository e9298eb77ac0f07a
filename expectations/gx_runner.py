"""Run the gate's checks as one GX checkpoint over the build warehouse and build the Data Docs.

One ephemeral GX context (nothing written outside `data_docs_dir`, no phone-home), one SQL datasource
on the build warehouse (`Warehouse.sqlalchemy_url()`: the embedded DuckDB file or the PostgreSQL build
database) opened read-only, one table asset + suite per checked relation. Every expectation is evaluated
as SQL inside the warehouse, each check's query once (expectations/gx_rows.py). All connections are
closed before returning, so the caller can open an embedded file for writing in this process.
"""

from __future__ import annotations

import importlib
import logging
import re
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from expectations.checks import Check
from kam_warehouse.core.warehouse import Warehouse

log = logging.getLogger(__name__)

DATASOURCE = "build_warehouse"
_DRIVER_PREFIX = re.compile(r"^\([\w.]+\)\s*")
SITE = "kam_gate"


@dataclass(frozen=True)
class PlannedCheck:
    check: Check
    sql: str  # the check's query, thresholds substituted


@dataclass(frozen=True)
class Evaluation:
    success: bool
    observed_value: str | None
    violations: tuple[str, ...]


def evaluate(warehouse: Warehouse, planned: list[PlannedCheck], data_docs_dir: Path, *,
             data_docs: str = "always") -> dict[str, Evaluation]:
    """Evaluate every planned check with GX; returns results keyed by check name. The Data Docs are
    rebuilt every time, or with data_docs="on_failure" only when a check failed (building them is about
    half of GX's time after import)."""
    if not planned:
        return {}
    if _prefetching is not None:
        _prefetching.join()
    import great_expectations as gx  # at once after prefetch(); raises here if the import fails

    from expectations import gx_duckdb_compat

    gx_duckdb_compat.apply_for(warehouse.sqlalchemy_url())  # DuckDB only
    context = _ephemeral_context(gx, data_docs_dir)
    with _read_only_datasource(context, warehouse) as datasource:
        by_table: dict[str, list[PlannedCheck]] = {}
        for p in planned:
            by_table.setdefault(p.check.table, []).append(p)
        definitions = [
            _validation_definition(gx, context, datasource, table, checks) for table, checks in by_table.items()
        ]
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name="kam_quality_gate", validation_definitions=definitions,
            result_format={"result_format": "COMPLETE", "partial_unexpected_count": 20},
        ))
        result = checkpoint.run()
        out: dict[str, Evaluation] = {}
        for run_result in result.run_results.values():
            for er in run_result.results:
                out[er.expectation_config.meta["check"]] = _evaluation(er)
        if data_docs == "always" or not all(e.success for e in out.values()):
            context.build_data_docs(site_names=[SITE])
            log.info("GX evaluated %d expectations; Data Docs in %s", len(out), data_docs_dir)
        else:
            log.info("GX evaluated %d expectations, all passed: Data Docs not rebuilt (data_docs: on_failure)",
                     len(out))
    return out


_prefetching: threading.Thread | None = None


def prefetch() -> None:
    """Start importing GX in a background thread (once per process). Importing GX is the largest part of
    the gate's fixed cost (~5 s with bytecode, twice that without); started when the gate knows a GX check
    is enabled, it overlaps the gate's own queries before `evaluate` (opening the warehouse, listing
    relations, binding each check), which run in DuckDB/PostgreSQL without holding the GIL. `evaluate`
    waits for it and imports GX as before, so a failed import raises there, as it would have."""
    global _prefetching
    if _prefetching is None and "great_expectations" not in sys.modules:
        _prefetching = threading.Thread(target=_import_gx, name="gx-import", daemon=True)
        _prefetching.start()


def _import_gx() -> None:
    try:
        importlib.import_module("great_expectations")
    except Exception:  # repeated, and raised, by evaluate's own import
        log.debug("importing great_expectations in the background failed", exc_info=True)


def _ephemeral_context(gx: Any, data_docs_dir: Path) -> Any:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    data_docs_dir.mkdir(parents=True, exist_ok=True)
    context.add_data_docs_site(SITE, {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(data_docs_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    return context


@contextmanager
def _read_only_datasource(context: Any, warehouse: Warehouse) -> Iterator[Any]:
    with warnings.catch_warnings():  # "a more specific PostgresDatasource may be more appropriate": same SQL
        warnings.filterwarnings("ignore", message=".*more specific .*Datasource may be more appropriate")
        datasource = context.data_sources.add_sql(
            name=DATASOURCE, connection_string=warehouse.sqlalchemy_url(),
            kwargs={"connect_args": warehouse.sqlalchemy_connect_args(read_only=True)},
        )
    try:
        yield datasource
    finally:
        _close(datasource)


def _close(datasource: Any) -> None:
    """Close the persisted connection and dispose both engines GX created for the datasource."""
    engine = getattr(datasource, "_execution_engine", None)
    if engine is not None:
        connection = getattr(engine, "_connection", None)
        if connection is not None:
            connection.close()
        engine.engine.dispose()
    sa_engine = getattr(datasource, "_engine", None)
    if sa_engine is not None:
        sa_engine.dispose()


def _validation_definition(gx: Any, context: Any, datasource: Any, table: str, checks: list[PlannedCheck]) -> Any:
    schema, _, name = table.partition(".")
    asset = datasource.add_table_asset(name=table, table_name=name, schema_name=schema)
    batch = asset.add_batch_definition_whole_table(f"{table} (whole table)")
    suite = context.suites.add(gx.ExpectationSuite(name=f"{checks[0].check.suite}: {table}"))
    for p in checks:
        suite.add_expectation(_expectation(gx, p))
    return context.validation_definitions.add(gx.ValidationDefinition(name=table, data=batch, suite=suite))


def _expectation(gx: Any, p: PlannedCheck) -> Any:
    from expectations.gx_rows import KamUnexpectedRowsExpectation  # GX's, one query per check instead of two

    meta = {"check": p.check.name, "config_key": p.check.key}
    return KamUnexpectedRowsExpectation(
        unexpected_rows_query=p.sql, description=f"{p.check.name}: no violating rows", meta=meta)


def _raised(info: dict[str, Any]) -> dict[str, Any] | None:
    """The exception an expectation's metrics raised: GX reports it at the top of `exception_info`, or
    per metric (a dict of metric id -> the same fields) when a metric query failed."""
    if info.get("raised_exception"):
        return info
    return next((v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")), None)


def _evaluation(er: Any) -> Evaluation:
    raised = _raised(er.exception_info or {})
    if raised is not None:
        # SQLAlchemy prefixes the driver's class: "(psycopg2.errors.UndefinedColumn) column ... does not exist"
        message = _DRIVER_PREFIX.sub("", str(raised.get("exception_message") or "unknown error"))
        return Evaluation(False, "error", (f"query failed: {message.splitlines()[0][:300]}",))
    result = er.result or {}
    rows = (result.get("details") or {}).get("unexpected_rows") or []
    return Evaluation(bool(er.success), str(result.get("observed_value")), tuple(str(r.get("detail", r)) for r in rows))
