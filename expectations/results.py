"""The gate's result types and their record in `ops.dq_results` (one row per check and run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import duckdb

Outcome = Literal["passed", "warned", "blocked"]

DQ_RESULTS_DDL = """
CREATE TABLE IF NOT EXISTS ops.dq_results (
    run_id         VARCHAR   NOT NULL,
    suite          VARCHAR   NOT NULL,  -- raw | staging | marts
    expectation    VARCHAR   NOT NULL,  -- check name, e.g. raw.quarantine_share
    severity       VARCHAR   NOT NULL,  -- block | warn
    success        BOOLEAN   NOT NULL,
    observed_value VARCHAR,             -- number of violating rows / values, or 'missing'
    details        VARCHAR,             -- what failed, one violation per line
    checked_at     TIMESTAMP NOT NULL
)
"""

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


def ensure_dq_results(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute(DQ_RESULTS_DDL)


def write_results(con: duckdb.DuckDBPyConnection, run_id: str, results: list[CheckResult]) -> None:
    """Replace this run's rows in ops.dq_results (a re-run of the gate for a run_id is idempotent)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    ensure_dq_results(con)
    con.execute("BEGIN")
    con.execute("DELETE FROM ops.dq_results WHERE run_id = ?", [run_id])
    con.executemany(
        "INSERT INTO ops.dq_results VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [[run_id, r.suite, r.name, r.severity, r.success, r.observed_value, "\n".join(r.violations) or None, now]
         for r in results],
    )
    con.execute("COMMIT")
