"""In-process dbt invocation against the build warehouse (dbtRunner, no CLI start-up).

The dbt project (`dbt_project/`) reads every path and secret from the environment; this module sets
that environment for the duration of one invocation and turns dbt's results into a `DbtResult`, or a
`StepFailed` naming each failed node and why.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kam_warehouse.core.files import write_text_atomic
from kam_warehouse.errors import StepFailed
from kam_warehouse.settings import DBT_PROJECT_DIR, Settings

if TYPE_CHECKING:
    from kam_warehouse.test_scope import TestScope

log = logging.getLogger(__name__)
#: what the test-scope macros read (dbt_project/macros/tests/test_scope.sql; kam_warehouse.test_scope)
TEST_SCOPE_ENV = "KAM_TEST_SCOPE_SINCE"
#: and when the last build whose tests the gate passed had finished (rows a build stamps are newer)
TEST_SCOPE_BUILT_ENV = "KAM_TEST_SCOPE_BUILT_SINCE"
#: dbt's own log lines (INFO and up), forwarded to Python logging: the run's log file, the console with --verbose
dbt_log = logging.getLogger("kam.dbt")

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DBT_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}

#: dbt result statuses that fail the step (warn and skipped-after-success do not).
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})


@dataclass(frozen=True)
class NodeOutcome:
    """What happened to one dbt node (model, test, seed, unit test, hook)."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    execution_time: float
    message: str | None
    failures: int | None

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    def describe(self) -> str:
        detail = " ".join((self.message or "").split())
        if self.failures:
            detail = f"{self.failures} failing row(s); {detail}".rstrip("; ")
        return f"{self.resource_type} {self.unique_id}: {self.status}: {detail}"


@dataclass(frozen=True)
class DbtResult:
    """The outcome of one dbt invocation."""

    args: tuple[str, ...]
    success: bool
    nodes: tuple[NodeOutcome, ...]
    elapsed_seconds: float

    @property
    def counts(self) -> dict[str, int]:
        """Number of nodes per status, e.g. {'success': 40, 'pass': 120, 'warn': 1}."""
        return dict(Counter(n.status for n in self.nodes))

    @property
    def failed_nodes(self) -> tuple[NodeOutcome, ...]:
        return tuple(n for n in self.nodes if n.failed)

    @property
    def warned_nodes(self) -> tuple[NodeOutcome, ...]:
        return tuple(n for n in self.nodes if n.status == "warn")

    @property
    def nodes_ok(self) -> int:
        return sum(1 for n in self.nodes if not n.failed)

    def summary(self) -> str:
        """One line: node counts per status and elapsed time, e.g. 'dbt build: 40 success, 120 pass in 21.3 s'."""
        counts = ", ".join(f"{n} {status}" for status, n in sorted(self.counts.items())) or "no nodes"
        return f"dbt {' '.join(self.args[:1])}: {counts} in {self.elapsed_seconds:.1f} s"


def dbt_state_dir(settings: Settings) -> Path:
    """dbt's target/ and logs/ for this warehouse (state lives under the warehouse dir, not the repo)."""
    return settings.warehouse_dir / "dbt"


def dbt_environment(settings: Settings) -> dict[str, str]:
    """Environment variables the dbt project and profile read: the engine's target and connection, the
    reporting currency, and the build's resources from config/pipeline.yml `build:` (DuckDB
    memory_limit and temp_directory, so a build larger than memory spills to disk; dbt threads).
    KAM_DBT_THREADS, KAM_DUCKDB_MEMORY_LIMIT and KAM_DUCKDB_TEMP_DIRECTORY set in the environment win."""
    limits = settings.duckdb_limits()  # the environment's KAM_DUCKDB_* already win there
    defaults = {
        "KAM_DBT_THREADS": str(settings.build_config().dbt_threads),
        "KAM_DUCKDB_MEMORY_LIMIT": limits.memory_limit.strip(),
        "KAM_DUCKDB_TEMP_DIRECTORY": str(limits.temp_directory),
    }
    return {
        **settings.build.dbt_environment(),  # the engine's target and connection (KAM_WAREHOUSE_URL)
        "KAM_REPORTING_CURRENCY": settings.reporting_currency,
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
        TEST_SCOPE_ENV: "",  # every row, unless build() narrows this build's tests
        TEST_SCOPE_BUILT_ENV: "",
        **{name: os.environ.get(name) or value for name, value in defaults.items()},
    }


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _common_args(settings: Settings, target_dir: Path | None = None) -> list[str]:
    return [
        # dbt prints nothing itself: its events go to Python logging (_forward_event); no colour codes
        "--log-level", "none", "--no-use-colors", "--no-use-colors-file",
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(target_dir or dbt_state_dir(settings) / "target"),
    ]


def _forward_event(event: Any) -> None:
    """dbtRunner callback: one dbt event (INFO and up) -> one record of the `kam.dbt` logger."""
    level = _DBT_LEVELS.get(str(event.info.level), logging.INFO)
    text = _ANSI.sub("", str(event.info.msg or "")).rstrip()
    if level >= logging.INFO and text.strip():
        dbt_log.log(level, "%s", text)


def _node_outcomes(result: Any) -> tuple[NodeOutcome, ...]:
    outcomes = []
    for r in getattr(result, "results", None) or ():
        node = getattr(r, "node", None)
        status = getattr(r, "status", "")
        outcomes.append(
            NodeOutcome(
                unique_id=getattr(node, "unique_id", "?"),
                name=getattr(node, "name", "?"),
                resource_type=str(getattr(node, "resource_type", "?")),
                status=str(getattr(status, "value", status)),
                execution_time=float(getattr(r, "execution_time", 0.0) or 0.0),
                message=getattr(r, "message", None),
                failures=getattr(r, "failures", None),
            )
        )
    return tuple(outcomes)


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an invocation.

    dbt-duckdb caches one database instance per process (DuckDBConnectionManager._ENV) and never
    closes it; until it is closed, no other connection in this process (the gate, the tier step, a
    test) can open the build warehouse with another configuration (e.g. read_only), and no other
    process can open it at all.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter (postgres target)
        return
    env = DuckDBConnectionManager._ENV
    if env is None:
        return
    try:
        env.close()
    finally:
        DuckDBConnectionManager.close_all_connections()


def invoke(settings: Settings, args: list[str], *, target_dir: Path | None = None,
           extra_env: dict[str, str] | None = None) -> DbtResult:
    """Run one dbt command in-process (e.g. ["parse"], ["docs", "generate", "--static"],
    ["run-operation", "ensure_state_tables"]) against the build warehouse.

    Raises StepFailed naming each failed node (one line each) when dbt reports failure.
    """
    from dbt.cli.main import dbtRunner  # heavy: import lazily

    settings.ensure_dirs()
    state = dbt_state_dir(settings)
    state.mkdir(parents=True, exist_ok=True)
    full_args = [*args, *_common_args(settings, target_dir)]
    step = f"dbt {args[0]}" if args else "dbt"
    log.info("running %s against %s", " ".join(args), settings.build.describe())
    started = time.monotonic()
    with _environment({**dbt_environment(settings), "DBT_LOG_PATH": str(state / "logs"), **(extra_env or {})}):
        try:
            outcome = dbtRunner(callbacks=[_forward_event]).invoke(full_args)
        finally:
            release_duckdb()
    result = DbtResult(
        args=tuple(args),
        success=bool(outcome.success),
        nodes=_node_outcomes(outcome.result),
        elapsed_seconds=time.monotonic() - started,
    )
    log.info("%s finished in %.1fs: %s", step, result.elapsed_seconds, result.counts)
    if not result.success:
        raise DbtFailed(step, _failure_reason(result, outcome.exception, state / "logs" / "dbt.log"), result)
    return result


class DbtFailed(StepFailed):
    """dbt reported failure; `result` holds every node's outcome (which models and tests failed)."""

    def __init__(self, step: str, reason: str, result: DbtResult) -> None:
        super().__init__(step, reason)
        self.result = result


def _failure_reason(result: DbtResult, exception: BaseException | None, log_file: Path) -> str:
    lines = [n.describe() for n in result.failed_nodes]
    if exception is not None:
        lines.append(f"{type(exception).__name__}: {' '.join(str(exception).split())}")
    if not lines:
        lines.append("dbt reported failure without a failed node")
    skipped = result.counts.get("skipped", 0)
    if skipped:
        lines.append(f"{skipped} downstream node(s) skipped")
    lines.append(f"details in {log_file}")
    return "\n" + "\n".join(lines)


def build(
    settings: Settings,
    *,
    select: str | None = None,
    exclude: str | None = None,
    full_refresh: bool = False,
    vars: dict[str, Any] | None = None,
    test_scope: TestScope | None = None,
) -> DbtResult:
    """`dbt build` (seeds, models, tests, unit tests) against the build warehouse; its data tests read
    every row unless `test_scope` narrows them (kam_warehouse.test_scope)."""
    args = ["build"]
    if select:
        args += ["--select", select]
    if exclude:
        args += ["--exclude", exclude]
    if full_refresh:
        args.append("--full-refresh")
    if vars:
        args += ["--vars", json.dumps(vars, default=str)]
    started = time.time()
    try:
        return invoke(settings, args, extra_env=test_scope.environment() if test_scope else None)
    finally:
        _keep_build_results(settings, started)


def last_build_dir(settings: Settings) -> Path:
    """The last `dbt build`'s run_results.json and manifest.json, which the quality gate judges. Kept apart
    from target/, which any later dbt command (`kam docs`, `kam dbt ...`) overwrites."""
    return dbt_state_dir(settings) / "last_build"


def _keep_build_results(settings: Settings, started: float) -> None:
    """Copy the build's artifacts to last_build_dir (each file replaced atomically); when dbt wrote none
    (it crashed first), remove the old ones so the gate does not judge an earlier build."""
    target, kept = dbt_state_dir(settings) / "target", last_build_dir(settings)
    kept.mkdir(parents=True, exist_ok=True)
    results = target / "run_results.json"
    fresh = results.is_file() and results.stat().st_mtime >= started - 1
    for name in ("manifest.json", "run_results.json"):
        dest = kept / name
        if not fresh or not (target / name).is_file():
            dest.unlink(missing_ok=True)
            continue
        write_text_atomic(dest, (target / name).read_text(encoding="utf-8"))


#: the manifest the nightly DAG reads at parse time (built by `make manifest`, never at parse time)
MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"


def write_manifest(settings: Settings) -> Path:
    """`dbt parse` into dbt_project/target so the Airflow DAGs can load the project without running dbt."""
    invoke(settings, ["parse"], target_dir=MANIFEST_PATH.parent)
    return MANIFEST_PATH
