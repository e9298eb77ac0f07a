"""Has anything the served build was built from changed? What lets a night with nothing new skip the build.

The served build (serving.duckdb, `marts._publish_info`) was built from every batch the build warehouse
had applied when it was published (one writer: loads, builds and publishes never interleave, see
kam_warehouse.orchestration.night), from the tier state and from the configuration files as they were
then. A night would rebuild the same marts, so it publishes nothing and says so, when
- its load step (and any `kam load` since) applied no batch after that publish,
- every pipeline step recorded since succeeded (a killed, failed or held-back run may have left the
  build warehouse's models half rebuilt: the next night rebuilds them),
- the tier history is the one served (a hand edit of tiers.* is judged by the gate), and
- no configuration file changed since.
Tier overrides set since apply from the next extract day, as in a re-run of the same night
(tiers.tier_runs).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from kam_warehouse.core.warehouse import WarehouseError, WarehouseTarget, connect
from kam_warehouse.orchestration.night import read_plan
from kam_warehouse.serving import builds
from kam_warehouse.settings import Settings


def _changed_config(config_dir: Path, since: datetime) -> list[str]:
    """Configuration files modified after `since` (naive UTC)."""
    if not config_dir.is_dir():
        return []
    cutoff = since.replace(tzinfo=UTC).timestamp()
    return sorted(str(p.relative_to(config_dir)) for p in config_dir.rglob("*")
                  if p.is_file() and p.stat().st_mtime > cutoff)


TIER_HISTORY_COLUMNS = ("account_id", "tier", "valid_from", "valid_to", "score", "reason", "run_id", "is_override")
#: one row as text (nulls spelled out, so "a" + null differs from null + "a"), the same SQL on every engine
_ROW_TEXT = " || '|' || ".join(f"coalesce(CAST({c} AS VARCHAR), '<null>')" for c in TIER_HISTORY_COLUMNS)
_FINGERPRINT = f"SELECT count(*), md5(coalesce(string_agg(row_text, chr(10) ORDER BY row_text), '')) " \
               f"FROM (SELECT {_ROW_TEXT} AS row_text FROM {{relation}}) AS r"


def _tier_fingerprint(target: WarehouseTarget, relation: str) -> tuple[object, ...] | None:
    """(rows, order-independent digest) of a tier history relation, or None when it cannot be read."""
    try:
        with connect(target, read_only=True) as con:
            try:
                row = con.execute(_FINGERPRINT.format(relation=relation)).fetchone()
            except con.errors:
                return None
    except WarehouseError:
        return None
    return tuple(row) if row else None


def _unclean_steps_since(target: WarehouseTarget, since: datetime) -> int:
    """Pipeline steps started after `since` that did not succeed (killed, failed, held back, running)."""
    with connect(target, read_only=True) as con:
        row = con.execute("SELECT count(*) FROM ops.pipeline_runs WHERE started_at > ? "
                          "AND status NOT IN ('success', 'skipped')", [since]).fetchone()
    return int(row[0]) if row else 0


def nothing_new(settings: Settings) -> str | None:
    """Why this night can skip the build ("nothing new since build X published at ...; serving unchanged"),
    or None when it must run (see the module docstring). The caller holds the write lock."""
    info = builds.served_info(settings.serving)
    if info is None:
        return None
    plan = read_plan(settings.build, settings.serving)
    if plan.published_at is None or any(s.unpublished for s in plan.sources.values()):
        return None
    if not any(s.loaded for s in plan.sources.values()):
        return None  # a build warehouse with no batch applied did not build what serving shows
    if _unclean_steps_since(settings.build, info.published_at):
        return None
    served = _tier_fingerprint(settings.serving, "marts.account_tier_history")
    if served is None or served != _tier_fingerprint(settings.build, "tiers.account_tier_history"):
        return None
    if _changed_config(settings.config_dir, info.published_at):
        return None
    loaded = ", ".join(f"{s.source} through {s.loaded_through}" for s in plan.sources.values() if s.loaded)
    return (f"nothing new since build {info.name} published at {info.published_at:%Y-%m-%d %H:%M:%S} UTC "
            f"({loaded}); serving unchanged")
