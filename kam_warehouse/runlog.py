"""`ops.pipeline_runs`: one row per run and step, so engineers can chart run trends in BI.

A step's row is written as `running` when it starts and completed when it ends, so a killed run
leaves a visible `running` row. Re-running the same (run_id, step) replaces its row.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

PIPELINE_RUNS_DDL = """
CREATE TABLE IF NOT EXISTS ops.pipeline_runs (
    run_id        VARCHAR   NOT NULL,
    step          VARCHAR   NOT NULL,
    status        VARCHAR   NOT NULL,  -- running | success | failed | held_back | skipped
    started_at    TIMESTAMP NOT NULL,
    ended_at      TIMESTAMP,
    duration_s    DOUBLE,
    rows_in       BIGINT,
    rows_out      BIGINT,
    gate_outcome  VARCHAR,             -- passed | warned | blocked (gate step and held-back rows)
    tier_changes  INTEGER,
    message       VARCHAR,
    triggered_by  VARCHAR
)
"""


@dataclass
class StepRecord:
    """What a step reports about itself; filled in by the step while it runs."""

    rows_in: int | None = None
    rows_out: int | None = None
    gate_outcome: str | None = None
    tier_changes: int | None = None
    message: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_ops_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute(PIPELINE_RUNS_DDL)


def write_row(
    db_path: Path,
    *,
    run_id: str,
    step: str,
    status: str,
    started_at: datetime,
    ended_at: datetime | None,
    record: StepRecord,
    triggered_by: str,
) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db_path)) as con:
        ensure_ops_schema(con)
        con.execute("DELETE FROM ops.pipeline_runs WHERE run_id = ? AND step = ?", [run_id, step])
        duration = (ended_at - started_at).total_seconds() if ended_at else None
        con.execute(
            "INSERT INTO ops.pipeline_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id, step, status, started_at, ended_at, duration, record.rows_in, record.rows_out,
                record.gate_outcome, record.tier_changes, record.message, triggered_by,
            ],
        )


@contextmanager
def recorded_step(db_path: Path, *, run_id: str, step: str, triggered_by: str) -> Iterator[StepRecord]:
    """Record a step in ops.pipeline_runs: `running` on entry, `success`/`failed` on exit.

    The step body may set `record.status_override` via `record.extra["status"]` (e.g. `held_back`).
    Exceptions propagate unchanged after the failed row is written.
    """
    record = StepRecord()
    started = _now()
    t0 = time.monotonic()
    write_row(db_path, run_id=run_id, step=step, status="running", started_at=started, ended_at=None,
              record=record, triggered_by=triggered_by)
    try:
        yield record
    except Exception as exc:
        record.message = record.message or str(exc)
        status = str(record.extra.get("status", "failed"))
        write_row(db_path, run_id=run_id, step=step, status=status, started_at=started,
                  ended_at=_elapsed(started, t0), record=record, triggered_by=triggered_by)
        raise
    write_row(db_path, run_id=run_id, step=step, status=str(record.extra.get("status", "success")),
              started_at=started, ended_at=_elapsed(started, t0), record=record, triggered_by=triggered_by)


def _elapsed(started: datetime, t0: float) -> datetime:
    from datetime import timedelta

    return started + timedelta(seconds=time.monotonic() - t0)
