"""Which rows a night's dbt tests read: every row on a full-scope build, what changed on a narrow night.

A night that loaded one day re-tests only what that day can have changed (issue 17): the generic tests
of the staging tables marked `test_scope` read the rows whose key has a raw version loaded after the
*tested watermark*, and the per-currency reconciliation reads the invoice lines a new version or a
late FX rate can move (dbt_project/macros/tests/test_scope.sql). The tested watermark is the latest raw
batch (raw.load_batches.loaded_at) that a build had already seen when it started, on a build whose
tests the quality gate then passed: every row older than it was tested by that build or one before it,
and nothing rewrote it since. Every other test (the marts, the facts, the tier inputs) reads every row.
A narrow night also skips the dbt unit tests: they test code on fixed inputs, and the project and engine
are the ones they passed on (TestScope.skips_unit_tests).

The night tests every row (full scope) when
- no build on this warehouse has passed the gate yet (or the record of it is gone),
- the dbt project changed since that build (a new or changed test, model or macro must see every
  row): models/, macros/, tests/, seeds/, dbt_project.yml and the engine versions, fingerprinted,
- the last full-scope pass is `build.full_tests_every_days` old or older (config/pipeline.yml),
- the build is a full refresh or a selection of nodes, or `build.full_tests_every_days` is 0.

Records, beside the dbt state (kam_warehouse.dbt.dbt_state_dir):
- `last_build/test_scope.json`: the scope the last `dbt build` ran with and the watermark it saw,
  written by the dbt build step (removed when the build was a selection: nothing to promote);
- `tested_scope.json`: that record, promoted when the gate passed (or only warned) on that build; its
  `built_at` (when that build's dbt run had finished) bounds the rows a build stamps with its own start
  (int_concentration_ranked.ranked_at), so a narrow night tests only the partitions ranked since.
A gate that blocks promotes nothing, so the next night re-tests from the older watermark.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

from kam_warehouse.core.files import write_text_atomic
from kam_warehouse.core.warehouse import WarehouseError, as_warehouse, connect
from kam_warehouse.dbt import TEST_SCOPE_BUILT_ENV, TEST_SCOPE_ENV, dbt_state_dir, last_build_dir
from kam_warehouse.settings import Settings

log = logging.getLogger(__name__)

#: what the tests are: a change to any of these makes the next build test every row
PROJECT_PARTS = ("models", "macros", "tests", "seeds", "dbt_project.yml")
#: and what runs them
ENGINE_PACKAGES = ("dbt-core", "dbt-duckdb", "dbt-postgres", "dbt-spark", "duckdb")
PENDING_NAME = "test_scope.json"
TESTED_NAME = "tested_scope.json"
#: the environment variables the dbt macros read (dbt_project/macros/tests/test_scope.sql)
ENV_VAR = TEST_SCOPE_ENV
BUILT_ENV_VAR = TEST_SCOPE_BUILT_ENV


@dataclass(frozen=True)
class TestScope:
    """The scope of one build's tests: `since` None tests every row."""

    __test__ = False  # not a pytest class

    since: datetime | None
    reason: str
    #: when the build that passed the gate at `since` had finished its dbt build: what a build stamps on
    #: the rows it writes (int_concentration_ranked.ranked_at) is newer for every row built since
    built_since: datetime | None = None

    @property
    def narrow(self) -> bool:
        return self.since is not None

    @property
    def skips_unit_tests(self) -> bool:
        """Unit tests test code on fixed inputs, not data (dbt's advice: run them in CI, not on production
        builds): a narrow night runs the project and engine they passed on with the last passing build."""
        return self.narrow

    def env_value(self) -> str:
        return self.since.isoformat(sep=" ") if self.since else ""

    def environment(self) -> dict[str, str]:
        """What the dbt macros read (ENV_VAR, BUILT_ENV_VAR; empty: every row)."""
        built = self.built_since.isoformat(sep=" ") if self.since and self.built_since else ""
        return {ENV_VAR: self.env_value(), BUILT_ENV_VAR: built}

    def describe(self) -> str:
        if self.since is None:
            return f"tests over every row ({self.reason})"
        return (f"tests narrowed to what changed after {self.since:%Y-%m-%d %H:%M:%S} UTC, unit tests skipped "
                f"(unchanged since they passed) ({self.reason})")


@dataclass(frozen=True)
class ScopeRecord:
    """What one build saw and how it was tested (the JSON records above)."""

    watermark: str | None  # raw.load_batches max(loaded_at) when the build started, ISO
    project: str  # fingerprint of the dbt project
    narrow_since: str | None  # the scope the build's tests ran with (None: every row)
    full_scope_at: str | None  # when the last full-scope build (this one, or the one it narrows from) ran
    recorded_at: str
    built_at: str | None = None  # when its dbt build had finished (write_pending), after every row it stamped


def project_fingerprint(project_dir: Path) -> str:
    """sha256 over the dbt project's models, macros, tests, seeds and dbt_project.yml (paths and bytes)
    and the versions of the engine that runs them (ENGINE_PACKAGES): an upgrade tests every row again."""
    digest = hashlib.sha256()
    for package in ENGINE_PACKAGES:
        try:
            digest.update(f"{package}=={metadata.version(package)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} absent\0".encode())
    for part in PROJECT_PARTS:
        root = project_dir / part
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def raw_watermark(settings: Settings) -> datetime | None:
    """The latest raw batch the build warehouse holds (what a build starting now sees)."""
    if not as_warehouse(settings.build).exists():
        return None
    try:
        with connect(settings.build, read_only=True) as wh:
            if not wh.has_relation("raw", "load_batches"):
                return None
            value = wh.scalar("SELECT max(loaded_at) FROM raw.load_batches")
    except WarehouseError as exc:
        raise WarehouseError(f"could not read the raw watermark from {settings.build.describe()}: {exc}") from exc
    return value if isinstance(value, datetime) else None


def plan(settings: Settings, *, project_dir: Path, selected: bool = False, full_refresh: bool = False,
         now: datetime | None = None) -> tuple[TestScope, ScopeRecord]:
    """The scope of the build about to start, and the record it writes (write_pending) when it ends."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    fingerprint = project_fingerprint(project_dir)
    watermark = raw_watermark(settings)
    scope, full_scope_at = _decide(settings, fingerprint, selected=selected, full_refresh=full_refresh, now=now)
    record = ScopeRecord(
        watermark=watermark.isoformat(sep=" ") if watermark else None,
        project=fingerprint,
        narrow_since=scope.env_value() or None,
        full_scope_at=full_scope_at if scope.narrow else now.isoformat(sep=" "),
        recorded_at=now.isoformat(sep=" "),
    )
    return scope, record


def _decide(settings: Settings, fingerprint: str, *, selected: bool, full_refresh: bool,
            now: datetime) -> tuple[TestScope, str | None]:
    every_days = settings.build_config().full_tests_every_days
    if full_refresh:
        return TestScope(None, "a full refresh"), None
    if selected:
        return TestScope(None, "a selection of nodes"), None
    if every_days == 0:
        return TestScope(None, "build.full_tests_every_days is 0"), None
    tested = read_record(tested_path(settings))
    if tested is None or tested.watermark is None:
        return TestScope(None, "no build has passed the quality gate on this warehouse yet"), None
    if tested.project != fingerprint:
        return TestScope(None, "the dbt project changed since the last build that passed the gate"), None
    full_at = _parse(tested.full_scope_at)
    if full_at is None or now - full_at >= timedelta(days=every_days):
        return TestScope(None, f"the last full-scope pass is {every_days} day(s) old or older "
                               "(build.full_tests_every_days)"), None
    since = _parse(tested.watermark)
    assert since is not None  # checked above
    return TestScope(since, f"the last build that passed the gate had seen every batch through then; "
                            f"full scope again after {full_at + timedelta(days=every_days):%Y-%m-%d %H:%M}",
                     built_since=_parse(tested.built_at)), tested.full_scope_at


def pending_path(settings: Settings) -> Path:
    return last_build_dir(settings) / PENDING_NAME


def tested_path(settings: Settings) -> Path:
    return dbt_state_dir(settings) / TESTED_NAME


def write_pending(settings: Settings, record: ScopeRecord | None) -> None:
    """After a `dbt build`: the record the gate may promote (None, for a selection: remove any)."""
    path = pending_path(settings)
    if record is None:
        path.unlink(missing_ok=True)
        return
    built_at = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    _write_json(path, asdict(record) | {"built_at": built_at})


def build_narrow_since(settings: Settings) -> datetime | None:
    """The tested watermark the last `dbt build`'s tests were narrowed to (its pending record); None when
    they read every row or there is no record. The quality gate narrows its own checks to the same."""
    record = read_record(pending_path(settings))
    return _parse(record.narrow_since) if record is not None else None


def promote(settings: Settings) -> ScopeRecord | None:
    """The gate passed (or warned) on the last build: its watermark is now tested."""
    record = read_record(pending_path(settings))
    if record is None:
        return None
    _write_json(tested_path(settings), asdict(record))
    log.info("tests passed through the raw batches of %s", record.watermark)
    return record


def read_record(path: Path) -> ScopeRecord | None:
    """A record, or None when it is missing or unreadable (then the next build tests every row)."""
    try:
        data = json.loads(path.read_text())
        return ScopeRecord(**{k: data.get(k) for k in ScopeRecord.__dataclass_fields__})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        log.warning("ignoring %s (%s): the next build tests every row", path, exc)
        return None


def _write_json(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(data, indent=1) + "\n")


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
