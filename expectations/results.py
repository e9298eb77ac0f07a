"""The gate's result types and their record in `ops.dq_results` (one row per check and run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from kam_warehouse.core.comments import comment_table
from kam_warehouse.core.warehouse import Connection

Outcome = Literal["passed", "warned", "blocked"]

DQ_RESULTS_DDL = """
CREATE TABLE IF NOT EXISTS ops.dq_results (
    run_id         VARCHAR   NOT NULL,
    suite          VARCHAR   NOT NULL,
    expectation    VARCHAR   NOT NULL,
    severity       VARCHAR   NOT NULL,
    success        BOOLEAN   NOT NULL,
    observed_value VARCHAR,
    details        VARCHAR,
    checked_at     TIMESTAMP NOT NULL,
    home           VARCHAR,
    relation       VARCHAR
)
"""
#: columns added after the first release: a warehouse created before gets them on the next gate run
ADDED_COLUMNS: tuple[tuple[str, str], ...] = (("home", "VARCHAR"), ("relation", "VARCHAR"))
DQ_RESULTS_DOC = ("Quality gate verdicts: one row per run and check, from both homes of a check (dbt tests "
                  "of the build, Great Expectations checks of the loads). See docs/quality-and-tiers.md.")
DQ_RESULTS_COLUMNS: dict[str, str] = {
    "run_id": "Pipeline run the verdict belongs to (ops.pipeline_runs.run_id).",
    "suite": "Group of the check: raw (GX on the loads), reconcile (GX, raw against staging) or dbt.",
    "expectation": "Check name: a config/quality.yml key (e.g. raw.quarantine_share) "
                   "or dbt.<test name> for a dbt data test / unit test.",
    "severity": "block (a failure holds tiers and publish back) or warn (recorded, the run goes on).",
    "success": "true when the check held on this run's data.",
    "observed_value": "What was measured: violating rows or values, dbt status, or missing / error / skipped.",
    "details": "What failed, one violation per line (null when the check passed).",
    "checked_at": "When the gate recorded the verdict (UTC).",
    "home": "Where the check lives: dbt (a test in dbt_project) or gx (expectations/checks.py).",
    "relation": "The table the check is about (schema.name), or the dbt target folder for dbt.results.",
}
COLUMNS = tuple(DQ_RESULTS_COLUMNS)

#: violations listed per failed check in GateResult.failed_* (all are in ops.dq_results.details)
MAX_LISTED = 5


@dataclass(frozen=True)
class CheckResult:
    name: str
    suite: str
    table: str
    severity: str
    success: bool
    observed_value: str | None
    violations: tuple[str, ...] = ()
    #: where the check lives: "dbt" (a dbt test) or "gx" (expectations/checks.py)
    home: str = "gx"

    def failure_lines(self) -> list[str]:
        """Human-readable failures, each starting with the check name."""
        if self.success:
            return []
        shown = [f"{self.name} {v}" for v in self.violations[:MAX_LISTED]] or [f"{self.name} failed on {self.table}"]
        extra = len(self.violations) - MAX_LISTED
        if extra > 0:
            shown.append(f"{self.name}: {extra} more violation(s), see ops.dq_results")
        return shown


@dataclass
class GateResult:
    results: list[CheckResult] = field(default_factory=list)

    @property
    def failed_blocking(self) -> list[str]:
        return [line for r in self.results if r.severity == "block" for line in r.failure_lines()]

    @property
    def failed_warning(self) -> list[str]:
        return [line for r in self.results if r.severity == "warn" for line in r.failure_lines()]

    @property
    def outcome(self) -> Outcome:
        if self.failed_blocking:
            return "blocked"
        return "warned" if self.failed_warning else "passed"

    @property
    def passed(self) -> bool:
        return self.outcome != "blocked"

    def summary(self) -> str:
        ok = sum(r.success for r in self.results)
        text = f"quality gate {self.outcome}: {ok}/{len(self.results)} checks passed"
        if self.failed_blocking:
            text += "; blocking: " + "; ".join(self.failed_blocking)
        if self.failed_warning:
            text += "; warnings: " + "; ".join(self.failed_warning)
        return text


def ensure_dq_results(con: Connection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute(DQ_RESULTS_DDL)
    for column, kind in ADDED_COLUMNS:
        con.execute(f"ALTER TABLE ops.dq_results ADD COLUMN IF NOT EXISTS {column} {kind}")
    comment_table(con, "ops.dq_results", DQ_RESULTS_DOC, DQ_RESULTS_COLUMNS)


def write_results(con: Connection, run_id: str, results: list[CheckResult]) -> None:
    """Replace this run's rows in ops.dq_results (a re-run of the gate for a run_id is idempotent)."""
    import pyarrow as pa

    now = datetime.now(UTC).replace(tzinfo=None)
    ensure_dq_results(con)
    rows = {
        "run_id": pa.array([run_id] * len(results), pa.string()),
        "suite": pa.array([r.suite for r in results], pa.string()),
        "expectation": pa.array([r.name for r in results], pa.string()),
        "severity": pa.array([r.severity for r in results], pa.string()),
        "success": pa.array([r.success for r in results], pa.bool_()),
        "observed_value": pa.array([r.observed_value for r in results], pa.string()),
        "details": pa.array(["\n".join(r.violations) or None for r in results], pa.string()),
        "checked_at": pa.array([now] * len(results), pa.timestamp("us")),
        "home": pa.array([r.home for r in results], pa.string()),
        "relation": pa.array([r.table or None for r in results], pa.string()),
    }
    with con.transaction():
        con.execute("DELETE FROM ops.dq_results WHERE run_id = ?", [run_id])
        if results:  # one bulk load (a row at a time costs a round trip per row: ~1 s for ~200 dbt tests)
            con.bulk_load("ops.dq_results", pa.table(rows), columns=COLUMNS)
