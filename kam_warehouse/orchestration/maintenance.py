"""Task bodies of warehouse_maintenance: prune old builds and Airflow logs, checkpoint the build warehouse."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("kam_warehouse.maintenance")


def prune_builds(context: Any) -> list[str]:
    """Keep the newest `publish.keep_builds` published builds; never the one being served.

    Holds the write lock (publish writes the builds folder), so it waits while a night runs."""
    from kam_warehouse.orchestration import lease
    from kam_warehouse.orchestration.runtime import fail_fast
    from kam_warehouse.serving import builds
    from kam_warehouse.serving.publish import keep_builds
    from kam_warehouse.settings import Settings

    settings = Settings.from_env()
    with fail_fast(), lease.writing(context, leased=False):
        served = builds.served_info(settings.serving)
        protect = {builds.build_name(served.run_id)} if served else set()
        builds.remove_partials(settings.builds_dir)
        removed = builds.prune(settings.builds_dir, keep=keep_builds(settings), protect=protect)
    log.info("pruned %d build(s): %s", len(removed), removed or "nothing")
    return removed


def prune_logs(log_dir: Path, *, older_than_days: int, now: float | None = None) -> int:
    """Delete files under `log_dir` older than `older_than_days`, then empty folders; return files removed."""
    if not log_dir.is_dir():
        return 0
    cutoff = (now if now is not None else time.time()) - older_than_days * 86400
    removed = 0
    for path in sorted(log_dir.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink()
            removed += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return removed


def airflow_log_dir() -> Path:
    from airflow.configuration import conf

    return Path(conf.get("logging", "base_log_folder"))


def prune_airflow_logs(context: Any) -> int:
    from kam_warehouse.orchestration.config import load

    days = load().keep_airflow_logs_days
    removed = prune_logs(airflow_log_dir(), older_than_days=days)
    log.info("removed %d Airflow log file(s) older than %d days", removed, days)
    return removed


def checkpoint_build_warehouse(context: Any) -> dict[str, int]:
    """Compact the build warehouse under the write lock (never during a night): DuckDB FORCE CHECKPOINT,
    PostgreSQL VACUUM ANALYZE (kam_warehouse.core.warehouse: Warehouse.compact)."""
    from kam_warehouse.orchestration import lease
    from kam_warehouse.orchestration.runtime import fail_fast
    from kam_warehouse.settings import Settings

    with fail_fast(), lease.writing(context, leased=False):
        build = Settings.from_env().build
        before, after = build.compact()
    sizes = {"bytes_before": before, "bytes_after": after}
    log.info("compacted the build warehouse %s: %d -> %d bytes", build.describe(), before, after)
    return sizes
