"""Is there a night to run? What each source has loaded into the build warehouse and what serving shows.

A loaded day is *published* when its batch was loaded before the served build was published: loads,
builds and publishes never interleave (one writer, kam_warehouse.locking), so everything loaded before a
night claimed the warehouse is in the marts that night published.

kam_nightly runs when some loaded, unpublished day is complete for both sources, i.e. on or before the
latest day both sources have loaded (`common_through`) — also when only one source re-loaded a fixed day.
It skips (state `skipped`) otherwise; a source that stays behind the other longer than
`nightly.landing_wait_hours` is alerted, naming the source and the days it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kam_warehouse.core.warehouse import Connection, WarehouseTarget

SOURCES: tuple[str, ...] = ("billing", "crm")


@dataclass(frozen=True)
class SourceState:
    source: str
    #: extract day -> when its batch was loaded (naive UTC)
    loaded: dict[date, datetime]
    unpublished: tuple[date, ...]

    @property
    def loaded_through(self) -> date | None:
        return max(self.loaded) if self.loaded else None


@dataclass(frozen=True)
class Lag:
    """`source` lacks `days` that `ahead` has loaded; the oldest of them was loaded at `since`."""

    source: str
    ahead: str
    days: tuple[date, ...]
    since: datetime

    def describe(self) -> str:
        listed = ", ".join(d.isoformat() for d in self.days)
        return (f"source {self.source} is behind {self.ahead}: {self.source} day(s) {listed} not loaded "
                f"({self.ahead} loaded them since {self.since:%Y-%m-%d %H:%M} UTC)")


@dataclass(frozen=True)
class NightPlan:
    sources: dict[str, SourceState]
    published_at: datetime | None

    @property
    def common_through(self) -> date | None:
        ends = [s.loaded_through for s in self.sources.values()]
        return None if not ends or None in ends else min(d for d in ends if d is not None)

    @property
    def publishable(self) -> list[tuple[str, date]]:
        """Loaded, unpublished (source, day)s complete for both sources (on or before common_through)."""
        common = self.common_through
        if common is None:
            return []
        return [(s.source, d) for s in self.sources.values() for d in s.unpublished if d <= common]

    @property
    def should_run(self) -> bool:
        return bool(self.publishable)

    @property
    def lags(self) -> list[Lag]:
        found = []
        for s in self.sources.values():
            for other in self.sources.values():
                days = tuple(d for d in sorted(other.loaded) if s.loaded_through is None or d > s.loaded_through)
                if other is not s and days:
                    found.append(Lag(s.source, other.source, days, other.loaded[days[0]]))
        return found

    def describe(self) -> str:
        common = self.common_through
        if self.should_run:
            days = ", ".join(f"{src} {d}" for src, d in self.publishable)
            return f"publishing loaded day(s) {days}; both sources loaded through {common}"
        lag = "; ".join(x.describe() for x in self.lags)
        return ("nothing to publish: every day loaded for both sources is published"
                + (f" (both through {common})" if common else "") + (f"; {lag}" if lag else ""))


def _loaded(con: Connection) -> dict[str, dict[date, datetime]]:
    out: dict[str, dict[date, datetime]] = {s: {} for s in SOURCES}
    if not con.has_relation("raw", "load_batches"):
        return out
    for source, day, loaded_at in con.execute(
            "SELECT source, extract_day, max(loaded_at) FROM raw.load_batches GROUP BY source, extract_day").fetchall():
        out.setdefault(source, {})[day] = loaded_at
    return out


def read_plan(build: WarehouseTarget, serving: WarehouseTarget) -> NightPlan:
    """The plan from the build warehouse's applied batches and the served build's publish time (any
    engine: Settings.build / Settings.serving, or the embedded files' paths).

    The caller holds the warehouse (lease or write lock): the build warehouse is opened read-only."""
    from kam_warehouse.core.warehouse import as_warehouse
    from kam_warehouse.serving import builds

    info = builds.served_info(serving)
    published_at = info.published_at if info else None
    loaded: dict[str, dict[date, datetime]] = {s: {} for s in SOURCES}
    warehouse = as_warehouse(build)
    if warehouse.exists():
        with warehouse.connect(read_only=True) as con:
            loaded = _loaded(con)
    states = {
        source: SourceState(source, days, tuple(sorted(
            d for d, at in days.items() if published_at is None or at > published_at)))
        for source, days in loaded.items()
    }
    return NightPlan(states, published_at)


#: days of a lag described one by one in an alert (the rest are counted)
HINT_DAYS = 3


def what_to_do(lag: Lag, landing_dir: Path) -> str:
    """What the lagging source's landing folders show for the days it lacks, and who does what about it:
    the alert's second half (ingest.landing's layout: <landing>/<source>/<YYYY-MM-DD>/_SUCCESS)."""
    from ingest.landing import SUCCESS_MARKER, day_dir

    hints = []
    for day in lag.days[:HINT_DAYS]:
        folder = day_dir(landing_dir, lag.source, day)
        if not folder.is_dir():
            hints.append(f"{lag.source}/{day}: nothing has landed ({folder} does not exist): ask the owner of the "
                         f"{lag.source} extract to deliver it")
        elif not (folder / SUCCESS_MARKER).is_file():
            hints.append(f"{lag.source}/{day}: landed without its {SUCCESS_MARKER} marker ({folder}): the "
                         f"{lag.source} extract did not finish; ask its owner to complete the delivery")
        else:
            hints.append(f"{lag.source}/{day}: complete in landing but not loaded: see the ingest_{lag.source} "
                         f"run for {day} (a rejected file is named in its load_landing log; have it re-delivered "
                         "fixed, then clear that task)")
    more = len(lag.days) - HINT_DAYS
    tail = f"; and {more} later day(s)" if more > 0 else ""
    return (f"{'; '.join(hints)}{tail}. Until {lag.source} catches up the nightly skips and {lag.ahead}'s "
            f"later day(s) wait unpublished; ingest_{lag.source} loads each day as soon as its {SUCCESS_MARKER} "
            "appears, and the nightly then publishes without a manual trigger")


def overdue_lags(plan: NightPlan, *, now: datetime, grace: timedelta) -> list[Lag]:
    """Lags older than `grace` (naive UTC `now`): worth an alert, not just a log line."""
    return [lag for lag in plan.lags if now - lag.since > grace]
