"""The nightly publish deadline (`nightly.deadline_utc` in config/pipeline.yml).

Two alerts guard it:
- `kam_nightly` carries an Airflow DeadlineAlert: a run still not finished `nightly.max_runtime_minutes`
  after it was queued raises a deadline alert (notifier in the triggerer).
- `kam_nightly_deadline` runs daily at `deadline_utc` and fails (-> failure notifiers) when the serving
  warehouse has not been published since midnight UTC, which also catches a nightly that never started
  (e.g. a source never delivered).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from kam_warehouse.errors import KamError


class DeadlineMissed(KamError):
    """The nightly publish did not happen by the configured deadline."""


def cron_for(deadline: time) -> str:
    """The cron expression running a check daily at `deadline` (UTC)."""
    return f"{deadline.minute} {deadline.hour} * * *"


def last_publish(serving_db: Path) -> datetime | None:
    """When serving.duckdb was last replaced (publish replaces it atomically, so its mtime is the publish)."""
    if not serving_db.exists():
        return None
    return datetime.fromtimestamp(serving_db.stat().st_mtime, tz=UTC)


def check_published(serving_db: Path, *, now: datetime, deadline: time) -> datetime:
    """Raise DeadlineMissed unless serving_db was published on `now`'s UTC day; return the publish time."""
    day_start = datetime.combine(now.astimezone(UTC).date(), time(0, 0), tzinfo=UTC)
    published = last_publish(serving_db)
    if published is None or published < day_start:
        seen = published.isoformat(timespec="minutes") if published else "never"
        raise DeadlineMissed(
            f"the nightly publish has not happened by {deadline:%H:%M} UTC on {day_start:%Y-%m-%d}: "
            f"{serving_db} was last published {seen}. Check kam_nightly and the ingest DAGs "
            "(did both sources deliver _SUCCESS?) and ops.pipeline_runs."
        )
    return published


def nightly_deadline_alert(max_runtime: timedelta) -> Any:
    """The DeadlineAlert for kam_nightly: alert when a run is unfinished `max_runtime` after queueing."""
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    from kam_warehouse.orchestration.notifications import KamAlertNotifier

    return DeadlineAlert(reference=DeadlineReference.DAGRUN_QUEUED_AT, interval=max_runtime,
                         callback=AsyncCallback(KamAlertNotifier, kwargs={"kind": "deadline"}),
                         name="kam_nightly_runtime")


def check_task(context: Any) -> str:
    """Task body of kam_nightly_deadline."""
    from kam_warehouse.orchestration.config import load
    from kam_warehouse.orchestration.runtime import fail_fast
    from kam_warehouse.settings import Settings

    with fail_fast():
        published = check_published(Settings.from_env().serving_db, now=datetime.now(UTC),
                                    deadline=load().deadline_utc)
    return f"published at {published.isoformat(timespec='seconds')}"
