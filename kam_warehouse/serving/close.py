"""Month-end close: freeze a month's whole concentration report so finance gets the same numbers next quarter.

close_month(settings, month, *, run_id, force=False, reason=None, closed_by=None) -> CloseResult
    Copies, in one transaction, from the dbt views of the build warehouse into finance.* (see
    kam_warehouse.serving.finance_state):
    - every figure of marts.mart_finance_concentration_figures for the month (overall and per segment,
      both levels and windows) and for the two comparison months the report shows (the month before,
      the same month a year before: the MoM / YoY columns);
    - every account and group of marts.mart_finance_concentration_entities for the month (names,
      segment, tier, revenue, rank, share, Lorenz point): the top lists, Lorenz and Pareto charts;
    with close_version, as-of date (latest extract day loaded), closed-at, closed-by and run id.
    Closing a closed month again is a recorded no-op; `force=True` re-closes and needs a reason: the
    earlier version is kept (is_current = false), the new one gets the next close_version.

close_and_publish(settings, month, *, run_id, reason=None, force=False, closed_by=None,
                  triggered_by="cli") -> ClosePublished
    The step `kam close` and Airflow's finance_monthly run: quality gate -> close_month -> publish,
    each recorded in ops.pipeline_runs under `run_id`. The gate runs first, so nothing unchecked is
    frozen or served: a blocking check raises GateBlocked and leaves the close state and the serving
    warehouse as they were. When it returns, the serving warehouse shows the frozen figures (the same audited, atomic
    publish as the nightly; the finance marts are views over finance.*, so no dbt build is needed).
    The caller holds the build warehouse (kam: warehouse_lock; Airflow: the one-slot pool).
"""

from __future__ import annotations

import calendar
import getpass
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Literal

from kam_warehouse.core.warehouse import Connection, connect
from kam_warehouse.serving.asof import as_of as build_as_of
from kam_warehouse.serving.errors import CloseError
from kam_warehouse.serving.finance_state import (
    CLOSE_LOG_TABLE,
    CLOSED_ENTITIES_TABLE,
    CLOSED_TABLE,
    ENTITIES_VIEW,
    FIGURES_VIEW,
    ensure_finance_schema,
)
from kam_warehouse.settings import Settings

if TYPE_CHECKING:
    from kam_warehouse.serving.publish import PublishResult

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
    closed_by: str = ""
    entities: int = 0

    @property
    def message(self) -> str:
        label = self.month.strftime("%Y-%m")
        if self.status == "already_closed":
            return (f"{label} was already closed (version {self.close_version}, {self.closed_at:%Y-%m-%d %H:%M} UTC, "
                    f"data as of {self.as_of_date}); nothing changed. Use --force --reason TEXT to re-close it.")
        verb = "re-closed" if self.status == "reclosed" else "closed"
        return (f"{label} {verb}: {self.figures} figures frozen as version {self.close_version} "
                f"(data as of {self.as_of_date}).")


@dataclass(frozen=True)
class ClosePublished:
    close: CloseResult
    publish: PublishResult

    @property
    def message(self) -> str:
        return (f"{self.close.message} Published build {self.publish.run_id} to {self.publish.serving_path}: "
                f"the report shows the closed figures.")


def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def add_months(d: date, months: int) -> date:
    """First day of the month `months` after (negative: before) d's month."""
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def comparison_months(month: date) -> tuple[date, date]:
    """The months the report compares `month` with: the month before (MoM) and a year before (YoY)."""
    return add_months(month, -1), add_months(month, -12)


def due_close_month(today: date, day_of_month: int) -> date | None:
    """The month finance_monthly should close on `today`: the previous month, from `day_of_month`
    (`close.day_of_month` of config/pipeline.yml, validated 1..28 by kam_warehouse.core.configuration)
    of the current month on (later days too, so a missed run catches up; closing again is a no-op)."""
    if today.day < day_of_month:
        return None
    return add_months(today, -1)


def default_closed_by() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers with an arbitrary uid)
        return "unknown"


def close_month(settings: Settings, month: date, *, run_id: str, force: bool = False,
                reason: str | None = None, closed_by: str | None = None) -> CloseResult:
    """Freeze `month`'s whole concentration report in finance.* (see module docstring)."""
    month = month_start(month)
    label = month.strftime("%Y-%m")
    if force and not (reason and reason.strip()):
        raise CloseError(f"re-closing {label} needs a reason (--reason TEXT): it is recorded with the new version")
    who = closed_by or default_closed_by()
    as_of = build_as_of(settings.build)
    if as_of is None or as_of < month_end(month):
        raise CloseError(
            f"cannot close {label}: the build warehouse {settings.build.describe()} holds data only through "
            f"{as_of or 'no loaded extract day'}; load the extracts through {month_end(month)} first"
        )
    now = datetime.now(UTC).replace(tzinfo=None)
    with connect(settings.build) as con:
        ensure_finance_schema(con)
        _require_views(con, settings)
        current = con.execute(
            f"SELECT close_version, as_of_date, closed_at, count(*), max(closed_by) FROM {CLOSED_TABLE} "
            "WHERE closed_month = ? AND is_current AND coalesce(figure_month, closed_month) = closed_month "
            "GROUP BY close_version, as_of_date, closed_at", [month]
        ).fetchone()
        if current is not None and not force:
            _log(con, month, current[0], "already_closed", run_id, now, 0, reason)
            return CloseResult(month, "already_closed", current[0], current[3], current[1], current[2],
                               current[4] or "", _entities(con, month, current[0]))
        version = (current[0] + 1) if current else 1
        with con.transaction():
            figures, entities = _freeze(con, month, version, as_of=as_of, at=now, run_id=run_id, reason=reason,
                                        closed_by=who)
            if figures == 0:
                raise CloseError(
                    f"cannot close {label}: {FIGURES_VIEW} has no figures for that month in "
                    f"{settings.build.describe()} (no revenue, or dbt has not been built since the load)"
                )
            status: CloseStatus = "reclosed" if current else "closed"
            _log(con, month, version, status, run_id, now, figures, reason)
    log.info("%s %s: %d figures, %d entities, version %d", status, label, figures, entities, version)
    return CloseResult(month, status, version, figures, as_of, now, who, entities)


def _freeze(con: Connection, month: date, version: int, *, as_of: date, at: datetime,
            run_id: str, reason: str | None, closed_by: str) -> tuple[int, int]:
    """Insert version `version` of `month` (figures + comparison figures + entities); return the counts
    of the month's own figures and of its entities."""
    previous, year_before = comparison_months(month)
    con.execute(f"UPDATE {CLOSED_TABLE} SET is_current = false WHERE closed_month = ?", [month])
    con.execute(f"UPDATE {CLOSED_ENTITIES_TABLE} SET is_current = false WHERE closed_month = ?", [month])
    con.execute(
        f"INSERT INTO {CLOSED_TABLE} (closed_month, figure_month, figure_set, level, time_window, segment, metric, "
        "value, close_version, is_current, as_of_date, closed_at, closed_by, closed_by_run_id, close_reason) "
        f"SELECT ?, revenue_month, figure_set, level, time_window, segment, metric, value, ?, true, ?, ?, ?, ?, ? "
        f"FROM {FIGURES_VIEW} WHERE revenue_month IN (?, ?, ?)",
        [month, version, as_of, at, closed_by, run_id, reason, month, previous, year_before],
    )
    con.execute(
        f"INSERT INTO {CLOSED_ENTITIES_TABLE} (closed_month, close_version, is_current, level, time_window, "
        "entity_id, entity_name, segment, customer_type, tier, revenue, rank_desc, share, cumulative_share, point, "
        "cumulative_entity_share, cumulative_revenue_share) "
        "SELECT ?, ?, true, level, time_window, entity_id, entity_name, segment, customer_type, tier, revenue, "
        "rank_desc, share, cumulative_share, point, cumulative_entity_share, cumulative_revenue_share "
        f"FROM {ENTITIES_VIEW} WHERE revenue_month = ?",
        [month, version, month],
    )
    row = con.execute(f"SELECT count(*) FROM {CLOSED_TABLE} WHERE closed_month = ? AND close_version = ? "
                      "AND figure_month = closed_month", [month, version]).fetchone()
    return (int(row[0]) if row else 0), _entities(con, month, version)


def close_and_publish(settings: Settings, month: date, *, run_id: str, reason: str | None = None,
                      force: bool = False, closed_by: str | None = None,
                      triggered_by: str = "cli") -> ClosePublished:
    """Quality gate -> close_month -> publish, recorded under `run_id` (see module docstring)."""
    from kam_warehouse.pipeline import RunContext, step_publish, step_quality_gate

    ctx = RunContext(settings=settings, run_id=run_id, triggered_by=triggered_by)
    step_quality_gate(ctx)
    with ctx.step("close") as rec:
        result = close_month(settings, month, run_id=run_id, force=force, reason=reason, closed_by=closed_by)
        rec.rows_out = result.figures
        rec.message = result.message
    published = step_publish(ctx).detail["publish"]
    return ClosePublished(close=result, publish=published)  # type: ignore[arg-type]


def _require_views(con: Connection, settings: Settings) -> None:
    names = [view.split(".", 1)[1] for view in (FIGURES_VIEW, ENTITIES_VIEW)]
    found = {name for name, kind in con.relations("marts") if kind == "view"}
    missing = [f"marts.{n}" for n in names if n not in found]
    if missing:
        raise CloseError(f"{', '.join(missing)} missing in {settings.build.describe()}: run the nightly build "
                         "(kam run) first")


def _entities(con: Connection, month: date, version: int) -> int:
    row = con.execute(f"SELECT count(*) FROM {CLOSED_ENTITIES_TABLE} WHERE closed_month = ? AND close_version = ?",
                      [month, version]).fetchone()
    return int(row[0]) if row else 0


def _log(con: Connection, month: date, version: int, action: str, run_id: str, at: datetime,
         figures: int, reason: str | None) -> None:
    con.execute(f"INSERT INTO {CLOSE_LOG_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)",
                [month, version, action, run_id, at, figures, reason])
