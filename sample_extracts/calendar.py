"""The extract calendar: history months, the initial folder day, the delta days, and routing of a
record to the day folder that first sees it (by its change timestamp)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from sample_extracts.options import GeneratorError

DAY = np.timedelta64(1, "D")
#: see ExtractCalendar.horizon
HORIZON_DAYS = 366
#: rare delta events (late invoices, re-sends, contact and opportunity changes) land on delta day
#: 1 + Geometric(p): ~35% on the first day, ~88% within five days, the rest later
EARLY_EVENT_P = 0.35
SECOND = np.timedelta64(1, "s")


@dataclass(frozen=True)
class ExtractCalendar:
    start: np.datetime64  # first day of the history (datetime64[D])
    months: int
    days: int

    @classmethod
    def from_options(cls, start: str, months: int, days: int) -> ExtractCalendar:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", start):
            raise GeneratorError(f"--start must be YYYY-MM (got {start!r})")
        return cls(np.datetime64(start, "M").astype("datetime64[D]"), months, days)

    @property
    def month_starts(self) -> np.ndarray:
        """First day of every history month plus the month of the delta days (months + 1 entries)."""
        base = self.start.astype("datetime64[M]")
        return (base + np.arange(self.months + 2)).astype("datetime64[D]")

    def month_first(self, m: np.ndarray | int) -> np.ndarray:
        return self.month_starts[m]

    def month_length(self, m: np.ndarray | int) -> np.ndarray:
        starts = self.month_starts
        return (starts[np.asarray(m) + 1] - starts[m]).astype(np.int64)

    @property
    def initial_day(self) -> np.datetime64:
        """Extract day of the full-history folder: the day after the last history month."""
        return self.month_starts[self.months]

    @property
    def end_day(self) -> np.datetime64:
        """Exclusive end of everything extracted: changes on or after it are not written."""
        return self.initial_day + self.days * DAY

    @property
    def horizon(self) -> int:
        """Delta days every random draw is planned for, whatever `days` is (a year, or `days` if longer).
        Changes planned after `end_day` are not written, so a book generated with `days + 1` repeats
        the `days` folders byte for byte and adds one day: an extendable book for night-by-night replays."""
        return max(self.days, HORIZON_DAYS)

    @property
    def horizon_end(self) -> np.datetime64:
        """Exclusive end of the horizon (see `horizon`)."""
        return self.initial_day + self.horizon * DAY

    @property
    def folder_days(self) -> list[str]:
        return [str(self.initial_day + k * DAY) for k in range(self.days + 1)]

    def route(self, changed_at: np.ndarray) -> np.ndarray:
        """Folder index of each change timestamp: 0 = initial folder (before the initial day),
        k = delta day k (changed on initial_day + k - 1), -1 = after the run (not extracted)."""
        day = changed_at.astype("datetime64[D]")
        k = (day - self.initial_day).astype(np.int64) + 1
        k = np.where(day < self.initial_day, 0, k)
        return np.where(day >= self.end_day, -1, k)

    def delta_timestamps(self, rng: np.random.Generator, n: int, first: int = 1) -> np.ndarray:
        """n change timestamps (office hours) of rare events on delta days first, first + 1, ...:
        most in the first days (see EARLY_EVENT_P), never after the horizon. The draws do not depend
        on `days`; those after it fall after `end_day` and are not extracted."""
        k = np.minimum(first + rng.geometric(EARLY_EVENT_P, n) - 1, self.horizon)
        return office_time(rng, self.initial_day + (k - 1) * DAY)

    def day_stamps(self, rng: np.random.Generator, delta_day: np.ndarray) -> np.ndarray:
        """Office-hours timestamps on the given delta days (1 = the first delta day)."""
        return office_time(rng, self.initial_day + (np.asarray(delta_day) - 1) * DAY)


def office_time(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """Timestamps on the given days between 08:00 and 20:00."""
    secs = rng.integers(8 * 3600, 20 * 3600, len(days))
    return days.astype("datetime64[s]") + secs * SECOND


def cap_before(ts: np.ndarray, limit: np.datetime64) -> np.ndarray:
    """Clip timestamps to strictly before `limit` (a day)."""
    last = limit.astype("datetime64[s]") - 60 * SECOND
    return np.minimum(ts, last)
