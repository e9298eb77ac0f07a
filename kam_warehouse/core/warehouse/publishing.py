"""Write-audit-publish inside a server warehouse: the engine-neutral surface serving/publish.py drives.

A warehouse whose serving database holds its builds as schemas (PostgreSQL) publishes by swapping
schemas; the embedded engine publishes by swapping files (kam_warehouse.serving.publish, no publisher
here). `schema_publisher(build, serving)` gives the publisher of an engine that has one, else None:

    publisher = schema_publisher(settings.build, settings.serving)
    with publisher.lock():                      # one publisher at a time; freed if the holder dies
        publisher.recover()                     # drop what a killed publish left
        staged = publisher.stage(name, run_id=..., as_of=...)   # write: copy marts/ops into new schemas
        publisher.audit(staged)                 # audit: every table there with the build's row count
        publisher.swap(staged.tag, action="publish")          # one transaction: marts/ops = the build
        publisher.prune(keep=5)

The served history (which build was served when, by publish or rollback) is written by `swap` in the
same transaction as the rename, so it can never disagree with what readers see.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from kam_warehouse.core.warehouse.base import WarehouseError

if TYPE_CHECKING:
    import pyarrow as pa

class PublishBusy(WarehouseError):
    """Another publish or rollback holds the serving database's publish lock."""


#: the schemas a build publishes (what readers query)
PUBLISHED_SCHEMAS: tuple[str, ...] = ("marts", "ops")

#: one row naming the build, written into every build on every engine (and the same row in ops, beside
#: the run log, for monitoring: ops.publish_info)
PUBLISH_INFO = "marts._publish_info"
OPS_PUBLISH_INFO = "ops.publish_info"
OPS_PUBLISH_INFO_DOC = "Which build this serving warehouse is (the row of marts._publish_info, beside the run log)."
PUBLISH_INFO_DOC = "Which build this serving warehouse is: one row written by the publish that produced it."
PUBLISH_INFO_COLUMNS = {
    "run_id": "Pipeline run that published this build (ops.pipeline_runs.run_id).",
    "published_at": "When the build was written (UTC).",
    "as_of_date": "As-of date of the data: the latest complete extract day loaded.",
    "tables": "Tables and views of marts and ops copied into the build.",
    "source_file": "Build warehouse the build was copied from.",
}
#: ops.pipeline_runs columns a publish needs to record itself as the success readers will see
RUN_LOG_COLUMNS = frozenset({"run_id", "step", "status", "started_at", "ended_at", "duration_s", "message"})


@dataclass(frozen=True)
class KeptBuild:
    """One published version held by the serving database (served now, kept for rollback, or staged)."""

    build: str  # the build's name (kam_warehouse.serving.builds.build_name of its run id)
    tag: str  # its schemas are <schema>__<tag> while not served
    run_id: str
    published_at: datetime
    as_of_date: date | None
    tables: int | None
    state: str  # staging | ready (audited) | served (in the served history)


@dataclass(frozen=True)
class ServedRecord:
    build: str
    run_id: str
    served_at: datetime
    action: str  # publish | rollback


@dataclass(frozen=True)
class StagedBuild:
    build: str
    tag: str
    run_id: str
    counts: dict[str, int] = field(default_factory=dict)  # "schema.table" -> rows in the build database

    def schema(self, published: str) -> str:
        """The schema `published` (marts, ops) of this build while it is not served."""
        return f"{published}__{self.tag}"


class SchemaPublisher(ABC):
    """Publishes a build database's marts and ops into versioned schemas of the serving database."""

    @abstractmethod
    def lock(self, *, wait_seconds: float = 60.0) -> AbstractContextManager[None]:
        """Hold the publish lock of the serving database (raises WarehouseError when busy too long)."""

    @abstractmethod
    def recover(self) -> list[str]:
        """Under the lock: drop the schemas of builds that were staged but never served (a failed or
        killed publish); return their build names."""

    @abstractmethod
    def stage(self, build: str, *, run_id: str, as_of: date | None,
              on_table: Callable[[str], None] | None = None) -> StagedBuild:
        """Copy every table and view of the build's published schemas into new schemas (tables, types
        and comments kept), plus marts._publish_info; grant the reader roles; `on_table(name)` after each."""

    @abstractmethod
    def audit(self, staged: StagedBuild) -> None:
        """Every staged table has the build database's row count (raises WarehouseError otherwise)."""

    @abstractmethod
    def swap(self, tag: str, *, action: str, before_commit: Callable[[], None] | None = None) -> None:
        """In one transaction: the served schemas become those of the build `tag` (staged or kept), the
        previously served ones are kept under their tag, and the served history records it.
        `before_commit()` runs inside the transaction, after the renames (a fault point)."""

    @abstractmethod
    def served(self) -> KeptBuild | None:
        """The build readers see now."""

    @abstractmethod
    def kept(self) -> list[KeptBuild]:
        """Every complete build the serving database holds, oldest publish first."""

    @abstractmethod
    def history(self) -> list[ServedRecord]:
        """The served history, oldest first."""

    @abstractmethod
    def prune(self, *, keep: int) -> list[str]:
        """Drop all but the newest `keep` served builds (never the served one); return their names."""

    @abstractmethod
    def mart_tables(self, tag: str) -> list[str]:
        """The tables of `marts` of a staged or kept build (the served one included)."""

    @abstractmethod
    def mart_arrow(self, tag: str, table: str) -> pa.Table:
        """The rows of one mart of a staged or kept build as a typed Arrow table (the Parquet export)."""

    @abstractmethod
    def grant_reader(self, role: str, *, create: bool = False) -> list[str]:
        """Make `role` a read-only reader of every published schema, now and at every later publish;
        return the schemas granted."""

    @abstractmethod
    def readers(self) -> list[str]:
        """The reader roles every publish grants."""

    @abstractmethod
    def describe(self) -> str:
        """Where readers read (for messages)."""
