"""The short summary `make demo` / `kam run` end with, read from the published serving warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kam_warehouse.core.errors import KamError
from kam_warehouse.core.warehouse import WarehouseTarget, as_warehouse, connect


@dataclass(frozen=True)
class ServingSummary:
    #: where the serving warehouse is (a file, or a PostgreSQL database)
    serving_path: str
    latest_month: date | None
    top_20pct_share: float | None
    total_revenue: float | None
    active_accounts: int | None
    accounts_per_tier: dict[str, int]

    def render(self) -> str:
        lines = [f"Serving warehouse: {self.serving_path}"]
        if self.latest_month is None:
            lines.append("  (no revenue month published yet)")
        else:
            lines.append(
                f"  Latest month {self.latest_month:%Y-%m}: top-20% revenue share {self.top_20pct_share:.1%} "
                f"of {self.total_revenue:,.2f} across {self.active_accounts} active accounts"
            )
        tiers = ", ".join(f"{tier}: {n}" for tier, n in self.accounts_per_tier.items()) or "none"
        lines.append(f"  Accounts per tier: {tiers}")
        return "\n".join(lines)


TIER_ORDER = ("strategic", "key", "standard", "other", "unassigned")


def read_summary(target: WarehouseTarget) -> ServingSummary:
    """Read the latest month's account-level top-20% share and accounts per tier (read-only)."""
    serving_path = as_warehouse(target).describe()
    with connect(target, read_only=True) as con:
        if not (con.has_relation("marts", "mart_revenue_concentration_monthly")
                and con.has_relation("marts", "dim_account")):
            raise KamError(f"nothing has been published to the serving warehouse {serving_path} yet: run `kam run` "
                           "(or `make demo`) first")
        row = con.execute(
            """
            SELECT revenue_month, top_20pct_share, total_revenue, active_count
            FROM marts.mart_revenue_concentration_monthly
            WHERE level = 'account' AND "window" = 'month'
            ORDER BY revenue_month DESC LIMIT 1
            """
        ).fetchone()
        tiers = dict(
            con.execute(
                "SELECT coalesce(tier, 'unassigned'), count(*) FROM marts.dim_account GROUP BY 1"
            ).fetchall()
        )
    ordered = {t: tiers[t] for t in TIER_ORDER if t in tiers}
    ordered.update({t: n for t, n in sorted(tiers.items()) if t not in ordered})
    if row is None:
        return ServingSummary(serving_path, None, None, None, None, ordered)
    month, share, total, active = row
    return ServingSummary(serving_path, month, float(share), float(total), int(active), ordered)
