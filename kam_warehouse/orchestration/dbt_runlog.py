"""The `dbt_build` row of ops.pipeline_runs when dbt runs as a cosmos task group.

`kam run` records dbt_build with RunContext.step around one dbt call. Under Airflow the build is many
tasks, so the row is opened by a task before the group (`running`), closed by a task after it
(`success`), and marked `failed` by a failure callback on the group's tasks naming the failed model.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kam_warehouse.orchestration.runtime import TRIGGERED_BY, run_context

STEP = "dbt_build"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _started_at(db_path: Any, run_id: str) -> datetime | None:
    import duckdb

    if not db_path.exists():
        return None
    with duckdb.connect(str(db_path), read_only=True) as con:
        try:
            row = con.execute("SELECT started_at FROM ops.pipeline_runs WHERE run_id = ? AND step = ?",
                              [run_id, STEP]).fetchone()
        except duckdb.CatalogException:  # ops.pipeline_runs not created yet
            return None
    return row[0] if row else None


def _write(context: Any, status: str, *, message: str | None, nodes: int | None = None) -> None:
    from kam_warehouse.runlog import StepRecord, write_row

    ctx = run_context(context)
    db = ctx.settings.build_db
    now = _now()
    started = now if status == "running" else (_started_at(db, ctx.run_id) or now)
    write_row(db, run_id=ctx.run_id, step=STEP, status=status, started_at=started,
              ended_at=None if status == "running" else now,
              record=StepRecord(rows_out=nodes, message=message), triggered_by=TRIGGERED_BY)


def build_started(context: Any) -> None:
    _write(context, "running", message="dbt build (cosmos task group) started")


def build_finished(context: Any, *, nodes: int) -> str:
    message = f"dbt build (cosmos task group): {nodes} model task(s) succeeded"
    _write(context, "success", message=message, nodes=nodes)
    return message


def model_failed(context: Any) -> None:
    """Failure callback on each cosmos task: mark dbt_build failed with the model and the error."""
    ti = context.get("ti")
    exc = context.get("exception")
    _write(context, "failed", message=f"dbt task {getattr(ti, 'task_id', '?')} failed: {exc}")
