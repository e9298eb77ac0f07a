"""Serving: write-audit-publish of serving.duckdb (+ Parquet), rollback, month-end close, finance report.

    publish(settings, *, run_id) -> PublishResult
    rollback(settings, *, to=None) -> PublishResult
    close_month(settings, month, *, run_id, force=False, reason=None, closed_by=None) -> CloseResult
    close_and_publish(settings, month, *, run_id, reason=None, force=False, ...) -> ClosePublished
    due_close_month(today, config) -> date | None
    report.concentration_report(serving_db, month, out_dir, formats) -> dict[str, Path]
"""

from kam_warehouse.serving.close import (
    ClosePublished,
    CloseResult,
    close_and_publish,
    close_month,
    due_close_month,
)
from kam_warehouse.serving.publish import PublishResult, publish, rollback

__all__ = ["ClosePublished", "CloseResult", "PublishResult", "close_and_publish", "close_month", "due_close_month",
           "publish", "rollback"]
