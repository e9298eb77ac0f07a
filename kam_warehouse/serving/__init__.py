"""Serving: write-audit-publish of the serving warehouse (+ Parquet), rollback, month-end close, finance report.

On the embedded engine the serving warehouse is serving.duckdb, replaced as a whole file (publish);
on a server warehouse (KAM_WAREHOUSE_URL=postgresql://...) it is the schemas marts and ops of the
serving database, swapped as a whole in one transaction (schema_publish). Same calls on both:

    publish(settings, *, run_id) -> PublishResult
    rollback(settings, *, to=None) -> PublishResult
    close_month(settings, month, *, run_id, force=False, reason=None, closed_by=None) -> CloseResult
    close_and_publish(settings, month, *, run_id, reason=None, force=False, ...) -> ClosePublished
    due_close_month(today, config) -> date | None
    report.concentration_report(settings.serving, month, out_dir, formats) -> dict[str, Path]
    readers.grant_reader(settings, role, create=False) -> list[str]   (server warehouses)
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
