"""Nights for the gate end-to-end tests: clone a warehouse, add a landing day, snapshot what must not move.

A *night* is a root folder holding `landing/` and `warehouse/`. The defect scenarios write one new,
complete day folder whose single file carries exactly one defect class, built from the clean book's own
rows (re-sent unchanged, so only the injected defect is wrong). Targets and bad values are the
generator's own (`sample_extracts.defects`), so the scenarios follow what the generator injects.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

import duckdb

from expectations.checks import ALL_CHECKS
from expectations.quality_config import CheckConfig, load_quality_config
from ingest.contract import SOURCES
from ingest.landing import SUCCESS_MARKER, complete_days, day_dir
from kam_warehouse.settings import REPO_ROOT, Settings
from sample_extracts.defects import BAD_DATES, FILE_TARGETS, NOT_NUMBERS, ROW_TARGETS, TRUNCATABLE
from sample_extracts.ids import UNKNOWN_ACCOUNT, format_id

CONFIG_DIR = REPO_ROOT / "config"
QUARANTINE_SHARE = "raw.quarantine_share"
#: upper bound of data rows in a scenario file (fewer when one bad row must still breach the share)
MAX_ROWS = 20
#: text that GB18030 encodes to bytes which are not valid UTF-8 (the generator's wrong_encoding payload)
NON_UTF8_TEXT = "华东精密制造实施服务"

Outcome = Literal["quarantine", "reject_file"]


# ---------------------------------------------------------------- nights on disk
def night_settings(root: Path) -> Settings:
    """Settings of the night rooted at `root` (landing/ and warehouse/ under it, the repo's config/)."""
    return Settings(landing_dir=root / "landing", warehouse_dir=root / "warehouse", config_dir=CONFIG_DIR)


def clone_night(src: Path, dst: Path) -> Settings:
    """Copy a night (landing + warehouse, mtimes kept, symlinks as links); its DuckDB files must be closed."""
    shutil.copytree(src, dst, symlinks=True)
    return night_settings(dst)


def last_landing_day(landing: Path) -> date:
    """The latest complete day folder over every source."""
    return max(d for s in SOURCES for d in complete_days(landing, s))


def write_day(landing: Path, source: str, day: date, files: Mapping[str, bytes]) -> list[str]:
    """Write a complete day folder (files, then `_SUCCESS`); returns the files' landing-relative paths."""
    folder = day_dir(landing, source, day)
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / SUCCESS_MARKER).write_bytes(b"")
    return [f"{source}/{day.isoformat()}/{name}" for name in files]


def sample_rows(landing: Path, source: str, entity: str, n: int) -> tuple[list[str], list[list[str]]]:
    """Header and the first `n` data rows of the entity's file in the earliest (full-history) day folder."""
    first = min(complete_days(landing, source))
    path = day_dir(landing, source, first) / f"{entity}.csv"
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [row for _, row in zip(range(n), reader, strict=False)]
    if len(rows) < n:
        raise ValueError(f"{path} has {len(rows)} data rows; the scenario needs {n}")
    return header, rows


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def clean_delta(landing: Path, day: date) -> list[str]:
    """A valid, data-neutral day for every source: one record re-sent unchanged (the as-of date advances)."""
    written: list[str] = []
    for source, entity in (("billing", "payments"), ("crm", "activities")):
        header, rows = sample_rows(landing, source, entity, 1)
        written += write_day(landing, source, day, {f"{entity}.csv": csv_text(header, rows).encode()})
    return written


def next_day(landing: Path) -> date:
    return last_landing_day(landing) + timedelta(days=1)


# ---------------------------------------------------------------- the quarantine-share threshold
def quarantine_share_config(config_dir: Path = CONFIG_DIR) -> CheckConfig:
    """`raw.quarantine_share` as configured in config/quality.yml."""
    return load_quality_config(config_dir, {c.key for c in ALL_CHECKS})[QUARANTINE_SHARE]


def scenario_rows(max_share: float) -> int:
    """Data rows per scenario file: at most MAX_ROWS, few enough that a single bad row breaches the share."""
    return min(MAX_ROWS, math.ceil(1 / max_share) - 1)


def bad_rows_needed(rows: int, max_share: float) -> int:
    """The fewest bad rows whose share of `rows` exceeds `max_share`."""
    return math.floor(max_share * rows) + 1


# ---------------------------------------------------------------- defect scenarios
@dataclass(frozen=True)
class DefectFile:
    """One landing file carrying one defect class."""

    source: str
    entity: str
    data: bytes
    #: rows the loader must quarantine (0 for file-level classes: the file is rejected whole)
    quarantined: int
    #: data records in the file as the loader counts them
    records: int

    @property
    def name(self) -> str:
        return f"{self.entity}.csv"


Builder = Callable[["DefectScenario", Path, float], DefectFile]


@dataclass(frozen=True)
class DefectScenario:
    defect: str
    outcome: Outcome
    source: str
    entity: str
    column: str | None
    builder: Builder

    def build(self, landing: Path, max_share: float) -> DefectFile:
        return self.builder(self, landing, max_share)

    def land(self, landing: Path, day: date, max_share: float) -> tuple[str, DefectFile]:
        """Write the defective file as a new complete day folder; returns its landing-relative path."""
        f = self.build(landing, max_share)
        (rel,) = write_day(landing, self.source, day, {f.name: f.data})
        return rel, f


def _edited(bad_value: Callable[[int, str], str]) -> Builder:
    """A builder replacing `column` in the first k rows (k = the fewest that breach the share)."""

    def build(s: DefectScenario, landing: Path, max_share: float) -> DefectFile:
        assert s.column is not None
        n = scenario_rows(max_share)
        header, rows = sample_rows(landing, s.source, s.entity, n)
        k, idx = bad_rows_needed(n, max_share), header.index(s.column)
        for i, row in enumerate(rows[:k]):
            row[idx] = bad_value(i, row[idx])
        return DefectFile(s.source, s.entity, csv_text(header, rows).encode(), quarantined=k, records=n)

    return build


def _negative(_: int, value: str) -> str:
    return f"-{value}" if Decimal(value) > 0 else "-1"


def _conflicting_duplicates(s: DefectScenario, landing: Path, max_share: float) -> DefectFile:
    """k keys appear twice with different values: every row of such a key is quarantined."""
    assert s.column is not None
    n = scenario_rows(max_share)
    header, rows = sample_rows(landing, s.source, s.entity, n)
    idx, k = header.index(s.column), 1
    while 2 * k <= max_share * (n + k):
        k += 1
    conflicts = []
    for row in rows[:k]:
        other = list(row)
        other[idx] = str(Decimal(row[idx]) + 1)
        conflicts.append(other)
    return DefectFile(s.source, s.entity, csv_text(header, rows + conflicts).encode(), quarantined=2 * k,
                      records=n + k)


def _truncated_last_line(s: DefectScenario, landing: Path, max_share: float) -> DefectFile:
    """The last record cut before its last field, with no line end (a partially written file)."""
    n = scenario_rows(max_share)
    header, rows = sample_rows(landing, s.source, s.entity, n)
    text = csv_text(header, rows).rstrip("\n")
    last_comma = text.rfind(",")
    return DefectFile(s.source, s.entity, text[: last_comma - 1].encode(), quarantined=1, records=n)


def _missing_column(s: DefectScenario, landing: Path, max_share: float) -> DefectFile:
    assert s.column is not None
    header, rows = sample_rows(landing, s.source, s.entity, scenario_rows(max_share))
    idx = header.index(s.column)
    keep = [i for i in range(len(header)) if i != idx]
    data = csv_text([header[i] for i in keep], [[r[i] for i in keep] for r in rows]).encode()
    return DefectFile(s.source, s.entity, data, quarantined=0, records=len(rows))


def _wrong_encoding(s: DefectScenario, landing: Path, max_share: float) -> DefectFile:
    """A UTF-8-only billing file written in GB18030, with Chinese text so it cannot decode as UTF-8."""
    header, rows = sample_rows(landing, s.source, s.entity, scenario_rows(max_share))
    rows[0][header.index("description")] = NON_UTF8_TEXT
    data = csv_text(header, rows).encode("gb18030")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return DefectFile(s.source, s.entity, data, quarantined=0, records=len(rows))
    raise AssertionError("the GB18030 scenario file decodes as UTF-8: it would not test wrong_encoding")


def _empty(s: DefectScenario, landing: Path, max_share: float) -> DefectFile:
    return DefectFile(s.source, s.entity, b"", quarantined=0, records=0)


def _row(defect: str, builder: Builder) -> DefectScenario:
    source, entity, column = ROW_TARGETS[defect][0]
    return DefectScenario(defect, "quarantine", source, entity, column, builder)


def _file(defect: str, builder: Builder) -> DefectScenario:
    source, entity, column = FILE_TARGETS[defect][0]
    return DefectScenario(defect, "reject_file", source, entity, column, builder)


ROW_SCENARIOS: tuple[DefectScenario, ...] = (
    _row("bad_date", _edited(lambda i, _: BAD_DATES[i % len(BAD_DATES)])),
    _row("non_numeric_amount", _edited(lambda i, _: NOT_NUMBERS[i % len(NOT_NUMBERS)])),
    _row("negative_quantity", _edited(_negative)),
    _row("unknown_account", _edited(lambda _i, _v: format_id("account_id", UNKNOWN_ACCOUNT))),
    _row("duplicate_key_conflict", _conflicting_duplicates),
    DefectScenario("truncated_last_line", "quarantine", *TRUNCATABLE[0], None, _truncated_last_line),
)
FILE_SCENARIOS: tuple[DefectScenario, ...] = (
    _file("missing_required_column", _missing_column),
    _file("wrong_encoding", _wrong_encoding),
    _file("empty_file", _empty),
)


def covered_classes() -> dict[str, str]:
    """defect class -> outcome, over every scenario (compared with ingest.contract.DEFECT_OUTCOMES)."""
    return {s.defect: s.outcome for s in ROW_SCENARIOS + FILE_SCENARIOS}


# ---------------------------------------------------------------- what must not move
@dataclass(frozen=True)
class Snapshot:
    """What a held-back night must leave as it was (build DB tier state, the served file)."""

    tier_history: list[tuple[object, ...]]
    tier_runs: list[tuple[object, ...]]
    tier_changes: int
    serving_sha256: str
    serving_mtime_ns: int
    serving_tier_history: list[tuple[object, ...]]
    serving_concentration: list[tuple[object, ...]]


HISTORY_SQL = ("SELECT account_id, tier, valid_from, valid_to, score, reason, run_id, is_override "
               "FROM {table} ORDER BY ALL")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(settings: Settings) -> Snapshot:
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        history = con.execute(HISTORY_SQL.format(table="tiers.account_tier_history")).fetchall()
        runs = con.execute("SELECT as_of, run_id, scored, changes FROM tiers.tier_runs ORDER BY ALL").fetchall()
        changes = con.execute("SELECT count(*) FROM ops.tier_changes").fetchone()
    serving = settings.serving_db
    with duckdb.connect(str(serving), read_only=True) as con:
        served_history = con.execute(HISTORY_SQL.format(table="marts.account_tier_history")).fetchall()
        concentration = con.execute(
            "SELECT * FROM marts.mart_revenue_concentration_monthly ORDER BY ALL").fetchall()
    return Snapshot(
        tier_history=history, tier_runs=runs, tier_changes=int(changes[0]) if changes else 0,
        serving_sha256=_sha256(serving), serving_mtime_ns=os.stat(serving).st_mtime_ns,
        serving_tier_history=served_history, serving_concentration=concentration,
    )


def run_rows(settings: Settings, run_id: str) -> dict[str, tuple[str, str]]:
    """step -> (status, message) of one run in ops.pipeline_runs."""
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        rows = con.execute("SELECT step, status, coalesce(message, '') FROM ops.pipeline_runs WHERE run_id = ?",
                           [run_id]).fetchall()
    return {step: (status, message) for step, status, message in rows}


def query(settings: Settings, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    """Rows of a read-only query on the build warehouse."""
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def approx_rows(a: list[tuple[object, ...]], b: list[tuple[object, ...]], rel: float = 1e-9) -> bool:
    """Row lists equal, floats to `rel` (parallel aggregation may change the last bits of a double)."""
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b, strict=True):
        if len(ra) != len(rb):
            return False
        for x, y in zip(ra, rb, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                if not math.isclose(x, y, rel_tol=rel, abs_tol=1e-12):
                    return False
            elif x != y:
                return False
    return True
