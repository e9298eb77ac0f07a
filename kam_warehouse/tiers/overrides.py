"""Manual tier overrides: set one (validated against the data) and list them as the nightly sees them.

An override holds through its `expires_on` day; the nightly applies it while the night it reclassifies
(the data's as-of date, the latest loaded extract day) is on or before that day — so "expired" is judged
by the data's as-of date, never by the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kam_warehouse.core.warehouse import WarehouseTarget, connect
from kam_warehouse.errors import KamError
from kam_warehouse.tiers.readers import (
    connect_read_only,
    data_as_of,
    group_of,
    has_relation,
    require_warehouse,
)
from kam_warehouse.tiers.settings import TIER_ORDER
from kam_warehouse.tiers.state import ensure_tier_state


class OverrideRefused(KamError):
    """An override that would be wrong or never apply (bad tier, expiry not after the as-of date)."""


@dataclass(frozen=True)
class OverrideSet:
    group: str
    tier: str
    expires_on: date
    as_of: date


@dataclass(frozen=True)
class ListedOverride:
    account_id: str
    tier: str
    expires_on: date | None
    set_by: str
    reason: str
    in_force: bool


def set_override(target: WarehouseTarget, account_id: str, *, tier: str, reason: str, set_by: str,
                 expires_on: date) -> OverrideSet:
    """Record an override for the account's group (replacing an earlier one); refuse an unknown tier or
    account and an expiry on or before the data's as-of date. The caller holds the write lock."""
    if tier not in TIER_ORDER:
        raise OverrideRefused(f"{tier!r} is not a tier; use one of {', '.join(TIER_ORDER)}")
    if not reason.strip() or not set_by.strip():
        raise OverrideRefused("an override needs a non-empty --reason and --set-by (they are shown in the history)")
    require_warehouse(target)
    with connect(target) as con:
        group = group_of(con, account_id)
        as_of = data_as_of(con)
        if as_of is None:
            raise OverrideRefused("no extract day has been loaded into this warehouse yet, so no night can "
                                  "apply an override; run `kam run` first")
        if expires_on <= as_of:
            raise OverrideRefused(
                f"--expires-on {expires_on} is not after the data's as-of date {as_of} (the latest loaded "
                f"extract day): the next nightly reclassifies a later night, so this override would never "
                f"apply. Use a date after {as_of}.")
        ensure_tier_state(con)
        with con.transaction():
            con.execute("DELETE FROM tiers.tier_overrides WHERE account_id = ?", [group])
            con.execute("INSERT INTO tiers.tier_overrides (account_id, tier, reason, set_by, expires_on) "
                        "VALUES (?, ?, ?, ?, ?)", [group, tier, reason, set_by, expires_on])
    return OverrideSet(group=group, tier=tier, expires_on=expires_on, as_of=as_of)


def list_overrides(target: WarehouseTarget) -> tuple[date | None, list[ListedOverride]]:
    """The data's as-of date and every override, each marked in force or expired by that date."""
    with connect_read_only(target) as con:
        as_of = data_as_of(con)
        if not has_relation(con, "tiers", "tier_overrides"):
            return as_of, []
        rows = con.execute("SELECT account_id, tier, expires_on, coalesce(set_by, 'unknown'), coalesce(reason, '') "
                           "FROM tiers.tier_overrides ORDER BY account_id").fetchall()
    return as_of, [ListedOverride(a, t, e, who, why, e is None or as_of is None or e >= as_of)
                   for a, t, e, who, why in rows]
