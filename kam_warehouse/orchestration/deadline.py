"""The nightly publish deadline (`nightly.deadline_utc` in config/pipeline.yml).

Two alerts guard it:
- `kam_nightly` has `dagrun_timeout = nightly.max_runtime_minutes`: a run still unfinished then fails and
  its failure notifiers alert. (Airflow 3.3's DeadlineAlert crashes `airflow dags test` / `dag.test()`
  when the run succeeds: DagRun.update_state looks the alert up by its definition instead of its id.)
- `kam_nightly_deadline` runs daily at `deadline_utc` (its logical date) and fails (-> failure notifiers)
  unless the serving warehouse shows every source's previous day as published: day D lands after
  midnight ending D, so by the deadline on D+1 serving must hold D for billing and for crm. The alert
  names each late source and day, which also covers a nightly that never started (a source never
  delivered, a day rejected and not fixed, a night held back by the quality gate).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from kam_warehouse.errors import KamError
from kam_warehouse.orchestration.night import SOURCES

if TYPE_CHECKING:
    from kam_warehouse.core.warehouse import WarehouseTarget


class DeadlineMissed(KamError):
    """The nightly publish did not happen by the configured deadline."""


def cron_for(deadline: time) -> str:
    """The cron expression running a check daily at `deadline` (UTC)."""
    return f"{deadline.minute} {deadline.hour} * * *"


def due_day(deadline_at: datetime) -> date:
    """The extract day that must be published by the deadline at `deadline_at`: the day before."""
    return deadline_at.astimezone(UTC).date() - timedelta(days=1)


def published_through(serving: WarehouseTarget, sources: tuple[str, ...] = SOURCES) -> dict[str, date | None]:
    """Per source, the latest extract day the serving warehouse (any engine; a path = serving.duckdb)
    shows as loaded (ops.load_manifest)."""
    from kam_warehouse.core.warehouse import as_warehouse

    through: dict[str, date | None] = dict.fromkeys(sources)
    warehouse = as_warehouse(serving)
    if not warehouse.exists():
        return through
    with warehouse.connect(read_only=True) as con:
        if con.has_relation("ops", "load_manifest"):
            for source, day in con.execute("SELECT source, max(extract_day) FROM ops.load_manifest "
                                           "WHERE status = 'loaded' GROUP BY source").fetchall():
                if source in through:
                    through[source] = day
    return through


def check_published(serving: WarehouseTarget, *, deadline_at: datetime, deadline: time,
                    sources: tuple[str, ...] = SOURCES) -> dict[str, str]:
    """Raise DeadlineMissed naming every source whose due day is not published; else its days."""
    due = due_day(deadline_at)
    through = published_through(serving, sources)
    late = {s: d for s, d in through.items() if d is None or d < due}
    if late:
        what = "; ".join(f"{s} day {due} is not published (serving has {s} through {d or 'no day'})"
                         for s, d in late.items())
        raise DeadlineMissed(
            f"nightly deadline {deadline:%H:%M} UTC on {deadline_at.astimezone(UTC):%Y-%m-%d} missed: {what}. "
            f"Serving: {serving}. Check the ingest DAGs (did the source deliver _SUCCESS? was a file "
            "rejected?), kam_nightly (skipped, failed, held back by the gate?) and ops.pipeline_runs."
        )
    return {s: d.isoformat() for s, d in through.items() if d is not None}


def check_task(context: Any) -> dict[str, str]:
    """Task body of kam_nightly_deadline: the run's logical date is the deadline being checked."""
    from kam_warehouse.orchestration.config import load
    from kam_warehouse.orchestration.runtime import fail_fast
    from kam_warehouse.settings import Settings

    deadline_at = context.get("logical_date") or context["data_interval_end"]
    with fail_fast():
        return check_published(Settings.from_env().serving, deadline_at=deadline_at,
                               deadline=load().deadline_utc)
