"""The nightly publish deadline (`nightly.deadline_utc` in config/pipeline.yml).

Two alerts guard it:
- `kam_nightly` has `dagrun_timeout = nightly.max_runtime_minutes`: a run still unfinished then fails and
  its failure notifiers alert. (Airflow 3.3's DeadlineAlert crashes `airflow dags test` / `dag.test()`
  when the run succeeds: DagRun.update_state looks the alert up by its definition instead of its id.)
- `kam_nightly_deadline` runs daily at `deadline_utc` and fails (-> failure notifiers) when the serving
  warehouse has not been published since midnight UTC, which also catches a nightly that never started
  (e.g. a source never delivered).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

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
