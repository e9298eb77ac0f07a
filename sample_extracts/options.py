"""What `generate` is asked to do and what it reports back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kam_warehouse.core.errors import KamError


class GeneratorError(KamError):
    """The generator options cannot produce a valid landing zone (the message says which option)."""


@dataclass(frozen=True)
class GeneratorOptions:
    """Options of `kam demo-data`. Same options (incl. seed) -> byte-identical files.

    skew: spread of account sizes, the sigma of the log-normal distribution account annual revenue is
    drawn from. 0 makes every account the same size (top 20% of accounts ~ 30% of revenue); the
    default 1.7 puts ~80% of the trailing-12-month revenue on the top 20% of active accounts (group
    level: ~85-90%); 1.0 gives ~60%, 2.2 ~88%.
    """

    out: Path
    accounts: int = 300
    months: int = 36
    seed: int = 42
    start: str = "2023-01"  # YYYY-MM, first month of the history
    days: int = 5  # daily delta folders after the initial (full-history) folder
    defects: float = 0.0  # defect rate; 0 = clean. Each defect class appears at least once when > 0
    skew: float = 1.7

    def validate(self) -> None:
        """Raise GeneratorError naming the option that is out of range."""
        if self.accounts < 8:
            raise GeneratorError(f"--accounts must be >= 8 (got {self.accounts})")
        if self.accounts > 999_000:
            raise GeneratorError(f"--accounts must be <= 999000 (got {self.accounts})")
        if not 13 <= self.months <= 240:
            raise GeneratorError(f"--months must be between 13 and 240 (got {self.months})")
        if self.days < 0:
            raise GeneratorError(f"--days must be >= 0 (got {self.days})")
        if not 0.0 <= self.defects <= 0.5:
            raise GeneratorError(f"--defects must be a rate between 0 and 0.5 (got {self.defects})")
        if self.defects > 0 and self.days < 3:
            raise GeneratorError(
                "--defects needs --days >= 3: file-level defects go one per delta day folder "
                f"(got --days {self.days})"
            )
        if not 0.0 <= self.skew <= 4.0:
            raise GeneratorError(f"skew must be between 0 and 4 (got {self.skew})")


@dataclass
class GenerationSummary:
    """What was written: rows per file (relative path), day folders, defects injected per class."""

    out: Path
    folders: list[str] = field(default_factory=list)  # e.g. ["billing/2026-01-01", ...]
    rows: dict[str, int] = field(default_factory=dict)  # "billing/2026-01-01/invoices.csv" -> data rows
    defects: dict[str, int] = field(default_factory=dict)  # defect class -> count

    def entity_rows(self) -> dict[str, int]:
        """Data rows per entity over all folders, e.g. {"invoice_lines": 1234, ...}."""
        totals: dict[str, int] = {}
        for path, n in self.rows.items():
            name = path.rsplit("/", 1)[-1].split(".", 1)[0]
            totals[name] = totals.get(name, 0) + n
        return totals

    def __str__(self) -> str:
        counts = ", ".join(f"{name} {n:,}" for name, n in sorted(self.entity_rows().items()))
        defects = sum(self.defects.values())
        return (f"wrote {len(self.folders)} day folders to {self.out}: {counts}; "
                f"{defects} defects injected (see _defects.json)")
