"""The quality gate: `run_gate` is what `kam_warehouse.pipeline.step_quality_gate` calls.

One verdict from both homes of a check (docs/quality-and-tiers.md, "Where a check goes"):
(1) make sure ops.dq_results exists and list the relations present, (2) evaluate every enabled GX check
(expectations/checks.py) in one GX checkpoint on a read-only connection, building the Data Docs,
(3) read the dbt build's test results (expectations/dbt_results.py), (4) record one row per check in
ops.dq_results with its home. A GX check whose relation is missing fails (unless it is marked optional)
without GX; GX is not imported at all when no GX check is enabled (when one is, its import starts in the
background before (1)).
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from expectations.checks import ALL_CHECKS, Check
from expectations.dbt_results import DBT_KEYS, dbt_verdicts
from expectations.gx_runner import Evaluation, PlannedCheck, evaluate, prefetch
from expectations.quality_config import QUALITY_FILE, CheckConfig
from expectations.results import CheckResult, GateResult, ensure_dq_results, write_results
from kam_warehouse.core.configuration import load_quality
from kam_warehouse.core.errors import ConfigError
from kam_warehouse.core.warehouse import Connection, WarehouseTarget, as_warehouse, connect

log = logging.getLogger(__name__)


def run_gate(target: WarehouseTarget, *, run_id: str, config_dir: Path, data_docs_dir: Path,
             dbt_target_dir: Path | None = None, checks: tuple[Check, ...] = ALL_CHECKS,
             narrow_since: datetime | None = None) -> GateResult:
    """Run every enabled check against the build warehouse `target` and judge the dbt results in `dbt_target_dir` (the
    `--target-path` of the dbt build); record ops.dq_results and Data Docs. Never raises on a failed
    check (the caller decides from `GateResult.passed`).

    `narrow_since`: the tested watermark the build's tests were narrowed to (kam_warehouse.test_scope; None
    on a full-scope build). A `block` check with a narrow query then reads only what changed after it:
    a passing gate vouched for everything before it. A `warn` check always reads every row (a gate that
    only warned still moves the watermark, so narrowing it would stop repeating an old warning)."""
    quality = load_quality(config_dir)
    config = quality.require({c.key for c in (*ALL_CHECKS, *checks)} | DBT_KEYS, source=str(config_dir / QUALITY_FILE))
    enabled = [c for c in checks if config[c.key].severity != "off"]
    if enabled:
        prefetch()  # GX's import overlaps the queries below
    planned: list[PlannedCheck] = []
    early: dict[str, Evaluation] = {}
    warehouse = as_warehouse(target)
    with connect(warehouse) as con:
        ensure_dq_results(con)
        present = _relations(con)
        latest_load = _latest_load(con, present)
        for check in enabled:
            missing = [r for r in check.relations() if r not in present]
            if missing and check.optional and check.table in missing:
                early[check.name] = Evaluation(True, "skipped", ())
            elif missing:
                early[check.name] = Evaluation(False, "missing", tuple(f"relation {r} does not exist" for r in missing))
            else:
                since = narrow_since if config[check.key].severity == "block" else None
                sql = _sql(check, config[check.key], config_dir, since)
                problem = _binding_error(con, check, sql)
                if problem:
                    early[check.name] = Evaluation(False, "error", (f"query failed: {problem}",))
                else:
                    planned.append(PlannedCheck(check, sql))
    evaluated = {**early, **evaluate(warehouse, planned, data_docs_dir, data_docs=quality.data_docs)}
    gate = GateResult([
        CheckResult(name=c.name, suite=c.suite, table=c.table, severity=config[c.key].severity,
                    success=evaluated[c.name].success, observed_value=evaluated[c.name].observed_value,
                    violations=evaluated[c.name].violations, home="gx")
        for c in enabled
    ] + dbt_verdicts(dbt_target_dir, latest_load, config))
    with connect(warehouse) as con:
        write_results(con, run_id, gate.results)
    log.info(gate.summary())
    return gate


def _relations(con: Connection) -> set[str]:
    rows = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_catalog = current_database()"
    ).fetchall()
    return {r[0] for r in rows}


def _latest_load(con: Connection, present: set[str]) -> datetime | None:
    """When the latest file was loaded (UTC): dbt results older than that did not see today's data."""
    if "raw.load_manifest" not in present:
        return None
    row = con.execute("SELECT max(loaded_at) FROM raw.load_manifest WHERE status = 'loaded'").fetchone()
    return row[0] if row else None


def _binding_error(con: Connection, check: Check, sql: str) -> str | None:
    """Bind a check's query before GX runs it: GX does not roll back after a failing query, which would
    abort the transaction every later check runs in. Returns the error (e.g. a column renamed)."""
    try:
        con.execute("EXPLAIN " + sql.replace("{batch}", check.table))
    except con.errors as exc:
        return str(exc).splitlines()[0]
    return None


def _sql(check: Check, config: CheckConfig, config_dir: Path, since: datetime | None) -> str:
    try:
        return check.sql(config.params, since=since)
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"{config_dir / QUALITY_FILE}: checks.{check.key}: threshold problem: {exc}") from exc
