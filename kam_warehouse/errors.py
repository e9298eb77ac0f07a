"""Exception hierarchy. Every failure a person must act on is one of these, with a message saying what
failed, where (file, row, column, check) and what to do."""

from __future__ import annotations

# the base error and the configuration error live in the core package (ingest and expectations import
# them from there); re-exported here for the pipeline's modules
from kam_warehouse.core.errors import ConfigError as ConfigError
from kam_warehouse.core.errors import KamError


class WarehouseLocked(KamError):
    """Another process holds the build warehouse (one writer at a time)."""


class WarehouseBusy(KamError):
    """DuckDB refused to open a warehouse file because another process has it open for writing."""


class LandingProblem(KamError):
    """The landing path is missing, empty or holds nothing loadable: stop before any work is done."""


class StepFailed(KamError):
    """A pipeline step failed; the message names the step and the reason."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"step '{step}' failed: {reason}")
        self.step = step
        self.reason = reason


class GateBlocked(KamError):
    """A blocking data-quality check failed: tiers and publish were held back."""

    def __init__(self, failed_checks: list[str], *, awaiting_fx: list[str] | None = None) -> None:
        names = "; ".join(failed_checks)
        held = ""
        if awaiting_fx:
            held = (" Revenue held for a missing FX rate (deliver the rate; the lines are reprocessed): "
                    + "; ".join(awaiting_fx) + ".")
        super().__init__(
            f"quality gate blocked the run: {len(failed_checks)} blocking check(s) failed: {names}.{held} "
            "Yesterday's tiers stay in force and the published serving warehouse is unchanged. "
            "See ops.dq_results and the Data Docs under the warehouse folder."
        )
        self.failed_checks = failed_checks
        self.awaiting_fx = awaiting_fx or []
