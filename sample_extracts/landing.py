"""Writing the landing zone: rows are routed to the day folder that first sees them; the initial
(full-history) folder is streamed to disk chunk by chunk, delta folders are collected and written at
the end (after defect injection), each complete folder gets an empty `_SUCCESS`."""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from ingest.contract import ENTITIES, Entity
from sample_extracts.calendar import ExtractCalendar
from sample_extracts.options import GenerationSummary
from sample_extracts.render import CHANGED_AT, CsvRenderer, header_line
from sample_extracts.xlsx import xlsx_bytes

#: encodings of CRM files on delta day k (cycled, k = 1, 2, ...); the initial folder is UTF-8
CRM_DELTA_ENCODINGS = ("utf-8-sig", "gb18030", "utf-8")


def crm_encoding(day_index: int) -> str:
    return "utf-8" if day_index == 0 else CRM_DELTA_ENCODINGS[(day_index - 1) % len(CRM_DELTA_ENCODINGS)]


def accounts_as_xlsx(day_index: int) -> bool:
    """CRM sends accounts.xlsx instead of accounts.csv on delta days 3, 6, 9, ... (UTF-8 CSV days)."""
    return day_index > 0 and day_index % 3 == 0


@dataclass
class DeltaFile:
    """One file of a delta folder, as text lines, until it is written."""

    entity: Entity
    day_index: int
    day: str
    lines: list[str]  # data lines, no line terminator
    header: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    as_xlsx: bool = False
    trailing_newline: bool = True
    content: bytes | None = None  # final bytes, when a file-level defect replaced the content

    @property
    def rel(self) -> str:
        suffix = "xlsx" if self.as_xlsx else "csv"
        return f"{self.entity.source}/{self.day}/{self.entity.name}.{suffix}"

    def to_bytes(self) -> bytes:
        if self.content is not None:
            return self.content
        if self.as_xlsx:
            rows = [[v if v != "" else None for v in r] for r in csv.reader(self.lines)]
            stamp = datetime.fromisoformat(self.day)
            return xlsx_bytes(self.header, rows, stamp)
        text = ",".join(self.header) + "\n" + "".join(line + "\n" for line in self.lines)
        if not self.trailing_newline:
            text = text[:-1]
        return text.encode(self.encoding)


class LandingWriter:
    def __init__(self, out: Path, cal: ExtractCalendar) -> None:
        self.out = out
        self.cal = cal
        self.renderer = CsvRenderer()
        self.tmp = out / ".generator-tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._initial_rows: dict[str, int] = {}
        self._deltas: dict[tuple[str, str, int], list[pa.Table]] = {}
        self._part = 0

    def initial_path(self, entity: Entity) -> Path:
        return self.out / entity.source / self.cal.folder_days[0] / f"{entity.name}.csv"

    def add(self, entity: Entity, table: pa.Table) -> None:
        """Route rows by their `_changed_at`: before the initial day -> initial folder (written now),
        on a delta day -> that day's buffer, after the run -> dropped."""
        if table.num_rows == 0:
            return
        folder = self.cal.route(table[CHANGED_AT].to_numpy(zero_copy_only=False).astype("datetime64[s]"))
        initial = np.flatnonzero(folder == 0)
        if len(initial):
            self._append_initial(entity, table.take(initial) if len(initial) < table.num_rows else table)
        for k in np.unique(folder[folder > 0]):
            self._deltas.setdefault((entity.source, entity.name, int(k)), []).append(
                table.take(np.flatnonzero(folder == k)))

    def _append_initial(self, entity: Entity, table: pa.Table) -> None:
        path = self.initial_path(entity)
        if entity.name not in self._initial_rows:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(header_line(entity), encoding="utf-8")
            self._initial_rows[entity.name] = 0
        self._part += 1
        part = self.tmp / f"part-{self._part}.csv"
        self.renderer.write(entity, table, part)
        with path.open("ab") as dst, part.open("rb") as src:
            shutil.copyfileobj(src, dst, 1 << 20)
        part.unlink()
        self._initial_rows[entity.name] += table.num_rows

    def delta_files(self) -> list[DeltaFile]:
        """Every entity file of every delta day (header-only when the entity had no changes)."""
        files = []
        for k in range(1, self.cal.days + 1):
            for entity in ENTITIES:
                tables = self._deltas.pop((entity.source, entity.name, k), [])
                lines: list[str] = []
                if tables:
                    part = self.tmp / "delta.csv"
                    self.renderer.write(entity, pa.concat_tables(tables), part, order_by_change=True)
                    lines = part.read_text(encoding="utf-8").splitlines()
                    part.unlink()
                crm = entity.source == "crm"
                files.append(DeltaFile(
                    entity=entity, day_index=k, day=self.cal.folder_days[k], lines=lines,
                    header=list(entity.column_names), encoding=crm_encoding(k) if crm else "utf-8",
                    as_xlsx=crm and entity.name == "accounts" and accounts_as_xlsx(k),
                ))
        return files

    def finish(self, deltas: list[DeltaFile], summary: GenerationSummary) -> None:
        """Complete the initial folder, write the delta files, then every folder's `_SUCCESS`."""
        day0 = self.cal.folder_days[0]
        for entity in ENTITIES:
            path = self.initial_path(entity)
            if entity.name not in self._initial_rows:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(header_line(entity), encoding="utf-8")
            summary.rows[f"{entity.source}/{day0}/{entity.name}.csv"] = self._initial_rows.get(entity.name, 0)
        for f in deltas:
            target = self.out / f.rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(f.to_bytes())
            summary.rows[f.rel] = len(f.lines)
        for source in sorted({e.source for e in ENTITIES}):
            for day in self.cal.folder_days:
                folder = self.out / source / day
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "_SUCCESS").write_bytes(b"")
                summary.folders.append(f"{source}/{day}")
        self.close()

    def close(self) -> None:
        self.renderer.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
