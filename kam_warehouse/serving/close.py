"""Month-end close: freeze a month's concentration figures so finance gets the same numbers next quarter.

close_month copies the month's rows of the dbt view marts.mart_finance_concentration_figures (overall
and per-segment figures, both levels and windows, in long form) into finance.concentration_closed of
the build warehouse. Closing a closed month again is a recorded no-op; `force=True` re-closes: the
earlier version is kept with is_current = false and the new one gets the next close_version. dbt's
mart_finance_concentration_closed / _restatements read the state; the next publish serves them.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

import duckdb

from kam_warehouse.config import setting
from kam_warehouse.errors import ConfigError
from kam_warehouse.serving.errors import CloseError
from kam_warehouse.serving.finance_state import (
    CLOSE_LOG_TABLE,
    CLOSED_TABLE,
    FIGURES_VIEW,
    ensure_finance_schema,
)
from kam_warehouse.settings import Settings

log = logging.getLogger(__name__)

CloseStatus = Literal["closed", "reclosed", "already_closed"]


@dataclass(frozen=True)
class CloseResult:
    month: date
    status: CloseStatus
    close_version: int
    figures: int
    as_of_date: date
    closed_at: datetime

    @property
    def message(self) -> str:
        label = self.month.strftime("%Y-%m")
        if self.status == "already_closed":
            return (f"{label} was already closed (version {self.close_version}, {self.closed_at:%Y-%m-%d %H:%M} UTC, "
                    f"data as of {self.as_of_date}); nothing changed. Use --force to re-close it.")
        verb = "re-closed" if self.status == "reclosed" else "closed"
        return (f"{label} {verb}: {self.figures} figures frozen as version {self.close_version} "
                f"(data as of {self.as_of_date}); they reach serving.duckdb with the next dbt build + publish.")


def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def due_close_month(today: date, config: dict[str, Any]) -> date | None:
    """The month finance_monthly should close on `today`: the previous month, from `close.day_of_month`
    of the current month on (later days too, so a missed run catches up; closing again is a no-op)."""
    day = setting(config, "close.day_of_month", source="pipeline.yml")
    if not isinstance(day, int) or not 1 <= day <= 28:
        raise ConfigError(f"pipeline.yml: close.day_of_month must be an integer 1..28, got {day!r}")
    if today.day < day:
        return None
    previous = month_start(today).toordinal() - 1
    return month_start(date.fromordinal(previous))


def close_month(settings: Settings, month: date, *, run_id: str, force: bool = False,
                reason: str | None = None) -> CloseResult:
    """Freeze `month`'s concentration figures in finance.concentration_closed (see module docstring)."""
    from kam_warehouse.pipeline import as_of_date

    month = month_start(month)
    label = month.strftime("%Y-%m")
    as_of = as_of_date(settings.build_db)
    if as_of is None or as_of < month_end(month):
        raise CloseError(
            f"cannot close {label}: the build warehouse {settings.build_db} holds data only through "
            f"{as_of or 'no loaded extract day'}; load the extracts through {month_end(month)} first"
        )
    now = datetime.now(UTC).replace(tzinfo=None)
    with duckdb.connect(str(settings.build_db)) as con:
        ensure_finance_schema(con)
        _require_figures_view(con, settings)
        current = con.execute(
            f"SELECT close_version, as_of_date, closed_at, count(*) FROM {CLOSED_TABLE} "
            "WHERE closed_month = ? AND is_current GROUP BY ALL", [month]
        ).fetchone()
        if current is not None and not force:
            _log(con, month, current[0], "already_closed", run_id, now, 0, reason)
            return CloseResult(month, "already_closed", current[0], current[3], current[1], current[2])
        version = (current[0] + 1) if current else 1
        con.execute("BEGIN TRANSACTION")
        con.execute(f"UPDATE {CLOSED_TABLE} SET is_current = false WHERE closed_month = ?", [month])
        con.execute(
            f"INSERT INTO {CLOSED_TABLE} SELECT revenue_month, figure_set, level, time_window, segment, metric, "
            f"value, ?, true, ?, ?, ?, ? FROM {FIGURES_VIEW} WHERE revenue_month = ?",
            [version, as_of, now, run_id, reason, month],
        )
        figures = _count(con, month, version)
        if figures == 0:
            con.execute("ROLLBACK")
            raise CloseError(
                f"cannot close {label}: {FIGURES_VIEW} has no figures for that month in {settings.build_db} "
                "(no revenue, or dbt has not been built since the load)"
            )
        status: CloseStatus = "reclosed" if current else "closed"
        _log(con, month, version, status, run_id, now, figures, reason)
        con.execute("COMMIT")
    log.info("%s %s: %d figures, version %d", status, label, figures, version)
    return CloseResult(month, status, version, figures, as_of, now)


def _require_figures_view(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    row = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE schema_name = 'marts' "
        "AND view_name = 'mart_finance_concentration_figures'"
    ).fetchone()
    if not row or not row[0]:
        raise CloseError(f"{FIGURES_VIEW} does not exist in {settings.build_db}: run the nightly build (kam run) first")


def _count(con: duckdb.DuckDBPyConnection, month: date, version: int) -> int:
    row = con.execute(f"SELECT count(*) FROM {CLOSED_TABLE} WHERE closed_month = ? AND close_version = ?",
                      [month, version]).fetchone()
    return int(row[0]) if row else 0


def _log(con: duckdb.DuckDBPyConnection, month: date, version: int, action: str, run_id: str, at: datetime,
         figures: int, reason: str | None) -> None:
    con.execute(f"INSERT INTO {CLOSE_LOG_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)",
                [month, version, action, run_id, at, figures, reason])
