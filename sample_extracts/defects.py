"""Defect injection into the delta folders (`--defects RATE`) and the `_defects.json` manifest.

Row-level classes (quarantine) go into the clean delta days, file-level classes (reject_file) into
the last delta days, one per day folder, so a pipeline can load the clean days first. Every class in
`ingest.contract.DEFECT_OUTCOMES` is injected at least once; a higher rate injects more rows."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from ingest.contract import DEFECT_OUTCOMES
from sample_extracts.ids import UNKNOWN_ACCOUNT, format_id
from sample_extracts.landing import DeltaFile
from sample_extracts.options import GeneratorError

#: row-level class -> (source, entity, column) it may be injected into (entities nobody references)
ROW_TARGETS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "bad_date": (("billing", "payments", "payment_date"), ("crm", "activities", "activity_date"),
                 ("billing", "credit_notes", "credit_date")),
    "non_numeric_amount": (("billing", "invoice_lines", "amount"), ("billing", "payments", "amount"),
                           ("crm", "opportunities", "amount")),
    "negative_quantity": (("billing", "invoice_lines", "quantity"),),
    "unknown_account": (("crm", "activities", "account_id"), ("billing", "payments", "account_id"),
                        ("crm", "contacts", "account_id")),
    "duplicate_key_conflict": (("billing", "payments", "amount"), ("billing", "invoice_lines", "amount"),
                               ("crm", "activities", "activity_type")),
}
TRUNCATABLE = (("billing", "invoice_lines"), ("billing", "payments"), ("crm", "activities"),
               ("crm", "contacts"), ("crm", "opportunities"), ("billing", "credit_notes"))
FILE_CLASSES = ("missing_required_column", "wrong_encoding", "empty_file")
#: file-level class -> (source, entity, column to drop) choices, cycled
FILE_TARGETS: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "missing_required_column": (("billing", "payments", "currency"), ("crm", "contacts", "account_id")),
    "wrong_encoding": (("billing", "invoice_lines", None),),
    "empty_file": (("billing", "credit_notes", None), ("crm", "activities", None)),
}
BAD_DATES = ("2025-02-30", "31/12/2025", "2025-13-01", "n/a")
NOT_NUMBERS = ("N/A", "1.234,56", "¥1200.00", "twelve")


@dataclass
class _Plan:
    edits: dict[int, tuple[str, str, str]] = field(default_factory=dict)  # row -> (class, column, line)
    dups: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    truncate: bool = False

    def used(self) -> set[int]:
        return set(self.edits) | set(self.dups)


def _fields(line: str) -> list[str]:
    return next(csv.reader([line]))


def _line(fields: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    return buf.getvalue()


def _bad_value(cls: str, column: str, value: str, rng: np.random.Generator) -> str:
    if cls == "bad_date":
        return BAD_DATES[rng.integers(len(BAD_DATES))]
    if cls == "non_numeric_amount":
        return NOT_NUMBERS[rng.integers(len(NOT_NUMBERS))]
    if cls == "negative_quantity":
        return "-" + value
    if cls == "unknown_account":
        return format_id("account_id", UNKNOWN_ACCOUNT)
    if column == "activity_type":  # duplicate_key_conflict: a conflicting value
        return "call" if value != "call" else "meeting"
    return str(Decimal(value) + 1)


class DefectInjector:
    def __init__(self, files: list[DeltaFile], days: int, rate: float, rng: np.random.Generator) -> None:
        self.files = files
        self.rate = rate
        self.rng = rng
        n_file = min(days, max(len(FILE_CLASSES), math.ceil(rate * days)))
        self.file_days = list(range(days - n_file + 1, days + 1))
        self.clean_days = list(range(1, days - n_file + 1)) or [1]
        self.records: list[dict[str, object]] = []

    def _file(self, day: int, source: str, entity: str) -> DeltaFile:
        return next(f for f in self.files
                    if f.day_index == day and f.entity.source == source and f.entity.name == entity)

    def inject(self) -> list[dict[str, object]]:
        plans: dict[int, _Plan] = {}
        self._plan_rows(plans)
        for f in self.files:
            plan = plans.get(id(f))
            if plan:
                self._apply(f, plan)
        self._file_level()
        return self.records

    def _plan_rows(self, plans: dict[int, _Plan]) -> None:
        clean = [f for f in self.files if f.day_index in self.clean_days]
        eligible = sum(len(f.lines) for f in clean if (f.entity.source, f.entity.name) in TRUNCATABLE)
        per_class = max(1, round(self.rate * eligible / len(DEFECT_OUTCOMES)))
        for cls, targets in ROW_TARGETS.items():
            # clean days first; a tiny run may have to use a day that also carries a file-level defect
            slots = self._slots(clean, targets) or self._slots(self.files, targets)
            placed = 0
            for attempt in range(max(per_class * 4, len(slots))):
                if placed == per_class or not slots:
                    break
                f, col = slots[attempt % len(slots)] if attempt else slots[self.rng.integers(len(slots))]
                plan = plans.setdefault(id(f), _Plan())
                free = sorted(set(range(len(f.lines) - 1)) - plan.used())
                if not free:
                    continue
                row = free[self.rng.integers(len(free))]
                values = _fields(f.lines[row])
                idx = f.header.index(col)
                values[idx] = _bad_value(cls, col, values[idx], self.rng)
                (plan.dups if cls == "duplicate_key_conflict" else plan.edits)[row] = (cls, col, _line(values))
                placed += 1
            if placed == 0:
                raise GeneratorError(f"too little delta data to inject {cls}; raise --accounts or --days")
        truncatable = [f for f in clean if (f.entity.source, f.entity.name) in TRUNCATABLE and self._usable(f)] \
            or [f for f in self.files if (f.entity.source, f.entity.name) in TRUNCATABLE and self._usable(f)]
        if not truncatable:
            raise GeneratorError("too little delta data to inject truncated_last_line; raise --accounts")
        n = min(len(truncatable), max(1, round(self.rate * 10)))
        for i in self.rng.choice(len(truncatable), n, replace=False):
            plans.setdefault(id(truncatable[i]), _Plan()).truncate = True

    def _file_level_target(self, i: int) -> tuple[str, tuple[str, str, str | None]]:
        """Class and (source, entity, column) of the i-th file-level defect (on self.file_days[i])."""
        cls = FILE_CLASSES[i % len(FILE_CLASSES)]
        choices = FILE_TARGETS[cls]
        return cls, choices[(i // len(FILE_CLASSES)) % len(choices)]

    def _usable(self, f: DeltaFile) -> bool:
        """A file that can carry row-level defects: >= 2 rows and no file-level defect planned."""
        taken = {(day, *self._file_level_target(i)[1][:2]) for i, day in enumerate(self.file_days)}
        return len(f.lines) >= 2 and (f.day_index, f.entity.source, f.entity.name) not in taken

    def _slots(self, files: list[DeltaFile], targets: tuple[tuple[str, str, str], ...]
               ) -> list[tuple[DeltaFile, str]]:
        return [(f, col) for f in files for (s, e, col) in targets
                if (f.entity.source, f.entity.name) == (s, e) and self._usable(f)]

    def _record(self, f: DeltaFile, line: int | None, column: str | None, cls: str, key: str | None,
                **extra: object) -> None:
        self.records.append({"file": f.rel, "line": line, "column": column, "class": cls, "key": key,
                             "outcome": DEFECT_OUTCOMES[cls], **extra})

    def _apply(self, f: DeltaFile, plan: _Plan) -> None:
        out: list[str] = []
        for row, line in enumerate(f.lines):
            if row in plan.edits:
                cls, col, line = plan.edits[row]
                self._record(f, len(out) + 2, col, cls, _fields(line)[0])
            out.append(line)
            if row in plan.dups:
                cls, col, dup = plan.dups[row]
                self._record(f, len(out) + 2, col, cls, _fields(dup)[0], related_line=len(out) + 1)
                out.append(dup)
        if plan.truncate:
            last = out[-1]
            out[-1] = last[: max(1, min(len(last) // 2, last.rfind(",") - 1))]
            f.trailing_newline = False
            self._record(f, len(out) + 1, None, "truncated_last_line", _fields(last)[0])
        f.lines = out

    def _file_level(self) -> None:
        for i, day in enumerate(self.file_days):
            cls, (source, entity, column) = self._file_level_target(i)
            f = self._file(day, source, entity)
            if cls == "missing_required_column":
                assert column is not None
                idx = f.header.index(column)
                f.header = [c for j, c in enumerate(f.header) if j != idx]
                f.lines = [_line([v for j, v in enumerate(_fields(line)) if j != idx]) for line in f.lines]
            elif cls == "wrong_encoding":
                self._encode_wrongly(f)
            else:
                f.content = b""
            self._record(f, None, column, cls, None)

    @staticmethod
    def _encode_wrongly(f: DeltaFile) -> None:
        """A billing file (must be UTF-8) written in GB18030, with Chinese text so it cannot decode."""
        f.encoding = "gb18030"
        if all(line.isascii() for line in f.lines):
            if not f.lines:
                raise GeneratorError(f"{f.rel} has no rows to carry a wrong_encoding defect; raise --accounts")
            values = _fields(f.lines[0])
            values[f.header.index("description")] = "华东精密制造实施服务"
            f.lines[0] = _line(values)
        data = f.to_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return
        raise GeneratorError(f"{f.rel}: GB18030 bytes unexpectedly decode as UTF-8")
