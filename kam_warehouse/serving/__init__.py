"""Serving: write-audit-publish of serving.duckdb (+ Parquet), rollback, month-end close, finance report.

    publish(settings, *, run_id) -> PublishResult
    rollback(settings, *, to=None) -> PublishResult
    close_month(settings, month, *, run_id, force=False, reason=None) -> CloseResult
    due_close_month(today, config) -> date | None
    report.concentration_report(serving_db, month, out_dir, formats) -> dict[str, Path]
"""

from kam_warehouse.serving.close import CloseResult, close_month, due_close_month
from kam_warehouse.serving.publish import PublishResult, publish, rollback

__all__ = ["CloseResult", "PublishResult", "close_month", "due_close_month", "publish", "rollback"]
