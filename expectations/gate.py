"""The quality gate: `run_gate` is what `kam_warehouse.pipeline.step_quality_gate` calls.

Order: (1) make sure ops.dq_results exists and list the relations present, (2) evaluate every enabled
check with GX on a read-only connection, building the Data Docs, (3) record one row per check in
ops.dq_results. A check whose relation is missing fails (unless it is marked optional) without GX.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from expectations.checks import ALL_CHECKS, Check
from expectations.gx_runner import Evaluation, PlannedCheck, evaluate
from expectations.quality_config import CheckConfig, load_quality_config
from expectations.results import CheckResult, GateResult, ensure_dq_results, write_results
from kam_warehouse.errors import ConfigError

log = logging.getLogger(__name__)


def run_gate(db_path: Path, *, run_id: str, config_dir: Path, data_docs_dir: Path,
             checks: tuple[Check, ...] = ALL_CHECKS) -> GateResult:
    """Run every enabled check against `db_path`; record ops.dq_results and Data Docs; never raises on
    a failed check (the caller decides from `GateResult.passed`)."""
    config = load_quality_config(config_dir, {c.key for c in checks})
    enabled = [c for c in checks if config[c.key].severity != "off"]
    planned: list[PlannedCheck] = []
    early: dict[str, Evaluation] = {}
    with duckdb.connect(str(db_path)) as con:
        ensure_dq_results(con)
        present = _relations(con)
        for check in enabled:
            missing = [r for r in check.relations() if r not in present]
            if missing and check.optional and check.table in missing:
                early[check.name] = Evaluation(True, "skipped", ())
            elif missing:
                early[check.name] = Evaluation(False, "missing", tuple(f"relation {r} does not exist" for r in missing))
            else:
                sql = _sql(check, config[check.key], config_dir)
                problem = _binding_error(con, check, sql)
                if problem:
                    early[check.name] = Evaluation(False, "error", (f"query failed: {problem}",))
                else:
                    planned.append(PlannedCheck(check, sql))
    evaluated = {**early, **evaluate(db_path, planned, data_docs_dir)}
    gate = GateResult([
        CheckResult(name=c.name, suite=c.suite, table=c.table, severity=config[c.key].severity,
                    success=evaluated[c.name].success, observed_value=evaluated[c.name].observed_value,
                    violations=evaluated[c.name].violations)
        for c in enabled
    ])
    with duckdb.connect(str(db_path)) as con:
        write_results(con, run_id, gate.results)
    log.info(gate.summary())
    return gate


def _relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_catalog = current_database()"
    ).fetchall()
    return {r[0] for r in rows}


def _binding_error(con: duckdb.DuckDBPyConnection, check: Check, sql: str) -> str | None:
    """Bind a check's query before GX runs it: GX does not roll back after a failing query, which would
    abort the transaction every later check runs in. Returns the error (e.g. a column dbt renamed)."""
    probe = sql.replace("{batch}", check.table) if check.kind == "rows" else (
        f"SELECT {check.column} FROM {check.table} LIMIT 0")
    try:
        con.execute("EXPLAIN " + probe)
    except duckdb.Error as exc:
        return str(exc).splitlines()[0]
    return None


def _sql(check: Check, config: CheckConfig, config_dir: Path) -> str:
    if check.kind != "rows":
        return ""
    try:
        return check.sql(config.params)
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"{config_dir / 'quality.yml'}: check '{check.key}' threshold problem: {exc}") from exc
