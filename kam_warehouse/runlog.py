"""`ops.pipeline_runs`: one row per run and step, so engineers can chart run trends in BI.

A step's row is written as `running` (with the pid and host of the process) when it starts and
completed when it ends, so a killed run leaves a visible `running` row. The next step that starts —
of any run — marks such rows `killed` once their process is gone: same host and the pid no longer
alive, or (another host, a row from before pids were recorded) older than `STALE_AFTER`.
Re-running the same (run_id, step) replaces its row.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from kam_warehouse.core.comments import comment_table
from kam_warehouse.core.warehouse import Connection, WarehouseTarget, connect
from kam_warehouse.faults import fault_point

log = logging.getLogger(__name__)

PIPELINE_RUNS_DDL = """
CREATE TABLE IF NOT EXISTS ops.pipeline_runs (
    run_id        VARCHAR   NOT NULL,
    step          VARCHAR   NOT NULL,
    status        VARCHAR   NOT NULL,  -- running | success | failed | held_back | skipped | killed
    started_at    TIMESTAMP NOT NULL,
    ended_at      TIMESTAMP,
    duration_s    DOUBLE PRECISION,
    rows_in       BIGINT,
    rows_out      BIGINT,
    gate_outcome  VARCHAR,             -- passed | warned | blocked (gate step and held-back rows)
    tier_changes  INTEGER,
    message       VARCHAR,
    triggered_by  VARCHAR,
    pid           INTEGER,             -- the process that ran the step (to tell a killed run)
    host          VARCHAR
)
"""
#: columns added after the first release (ALTERed into older warehouses)
ADDED_COLUMNS: tuple[tuple[str, str], ...] = (("pid", "INTEGER"), ("host", "VARCHAR"))
#: a `running` row whose process cannot be checked (another host, no pid) is killed after this long
STALE_AFTER = timedelta(hours=6)


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


PIPELINE_RUNS_DOC = "One row per pipeline run and step (load, dbt_build, quality_gate, tiers, publish): status and figures."
PIPELINE_RUNS_COLUMNS = {
    "run_id": "Pipeline run id, e.g. cli__20260102T010203000000 (kam run) or the Airflow run's id.",
    "step": "Step of the run: load, dbt_build, quality_gate, tiers or publish.",
    "status": "running, success, failed, held_back (the gate blocked), skipped or killed.",
    "started_at": "When the step started (UTC).",
    "ended_at": "When it ended (UTC); null while running or when killed.",
    "duration_s": "ended_at - started_at in seconds.",
    "rows_in": "Rows the step read (load: rows read; gate: checks judged).",
    "rows_out": "Rows the step wrote (load: rows loaded; dbt: nodes that passed; tiers: groups scored; publish: tables).",
    "gate_outcome": "passed, warned or blocked (quality gate step and held-back rows).",
    "tier_changes": "Groups whose tier changed (tiers step).",
    "message": "Summary or the reason it failed or was held back.",
    "triggered_by": "Who started the run: cli, airflow, e2e, ...",
    "pid": "Process id that ran the step (to tell a killed run).",
    "host": "Host that ran the step.",
}


def ensure_ops_schema(con: Connection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute(PIPELINE_RUNS_DDL)
    for name, kind in ADDED_COLUMNS:
        con.execute(f"ALTER TABLE ops.pipeline_runs ADD COLUMN IF NOT EXISTS {name} {kind}")
    comment_table(con, "ops.pipeline_runs", PIPELINE_RUNS_DOC, PIPELINE_RUNS_COLUMNS)


def write_row(
    target: WarehouseTarget,
    *,
    run_id: str,
    step: str,
    status: str,
    started_at: datetime,
    ended_at: datetime | None,
    record: StepRecord,
    triggered_by: str,
) -> None:
    with connect(target) as con:
        ensure_ops_schema(con)
        if status == "running":
            mark_killed(con, by_run=run_id)
        con.execute("DELETE FROM ops.pipeline_runs WHERE run_id = ? AND step = ?", [run_id, step])
        duration = (ended_at - started_at).total_seconds() if ended_at else None
        con.execute(
            "INSERT INTO ops.pipeline_runs (run_id, step, status, started_at, ended_at, duration_s, rows_in, "
            "rows_out, gate_outcome, tier_changes, message, triggered_by, pid, host) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id, step, status, started_at, ended_at, duration, record.rows_in, record.rows_out,
                record.gate_outcome, record.tier_changes, record.message, triggered_by, os.getpid(),
                socket.gethostname(),
            ],
        )


def process_gone(pid: int | None, host: str | None, started_at: datetime, *, now: datetime) -> bool:
    """Whether the process that wrote a `running` row has certainly ended."""
    from kam_warehouse.core.files import pid_alive

    if pid is not None and host == socket.gethostname():
        return pid != os.getpid() and not pid_alive(pid)
    return now - started_at > STALE_AFTER


def mark_killed(con: Connection, *, by_run: str) -> list[tuple[str, str]]:
    """Mark every `running` row whose process has ended as `killed`; return their (run_id, step)."""
    now = _now()
    rows = con.execute(
        "SELECT run_id, step, pid, host, started_at FROM ops.pipeline_runs WHERE status = 'running'"
    ).fetchall()
    killed = [(r[0], r[1], r[2], r[3]) for r in rows if process_gone(r[2], r[3], r[4], now=now)]
    for run_id, step, pid, host in killed:
        who = f"process {pid} on {host}" if pid is not None else "its process"
        con.execute(
            "UPDATE ops.pipeline_runs SET status = 'killed', message = ? "
            "WHERE run_id = ? AND step = ? AND status = 'running'",
            [f"killed: {who} ended without finishing this step (found by run {by_run} at {now:%Y-%m-%d %H:%M:%S} UTC)",
             run_id, step],
        )
        log.warning("run %s step %s was killed (%s ended while it ran); marked killed", run_id, step, who)
    return [(k[0], k[1]) for k in killed]


@contextmanager
def recorded_step(target: WarehouseTarget, *, run_id: str, step: str, triggered_by: str) -> Iterator[StepRecord]:
    """Record a step in ops.pipeline_runs: `running` on entry, `success`/`failed` on exit.

    The step body may set `record.status_override` via `record.extra["status"]` (e.g. `held_back`).
    Exceptions propagate unchanged after the failed row is written. Fault points `step:<step>:start`
    and `step:<step>:end` (kam_warehouse.faults) bracket the body.
    """
    record = StepRecord()
    started = _now()
    t0 = time.monotonic()
    write_row(target, run_id=run_id, step=step, status="running", started_at=started, ended_at=None,
              record=record, triggered_by=triggered_by)
    fault_point(f"step:{step}:start")
    try:
        yield record
    except Exception as exc:
        record.message = record.message or str(exc)
        status = str(record.extra.get("status", "failed"))
        write_row(target, run_id=run_id, step=step, status=status, started_at=started,
                  ended_at=_elapsed(started, t0), record=record, triggered_by=triggered_by)
        raise
    fault_point(f"step:{step}:end")
    write_row(target, run_id=run_id, step=step, status=str(record.extra.get("status", "success")),
              started_at=started, ended_at=_elapsed(started, t0), record=record, triggered_by=triggered_by)


def _elapsed(started: datetime, t0: float) -> datetime:
    return started + timedelta(seconds=time.monotonic() - t0)
