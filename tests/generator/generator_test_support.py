"""Reading a generated landing zone back, independently of the generator's code (plain csv/openpyxl)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from openpyxl import load_workbook

CRM_ENCODINGS = ("utf-8-sig", "gb18030")


def decode(path: Path) -> str:
    """Text of a landing file: UTF-8 (with or without BOM), else GB18030."""
    data = path.read_bytes()
    for enc in CRM_ENCODINGS:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise AssertionError(f"{path} decodes neither as UTF-8 nor as GB18030")


def day_folders(root: Path, source: str) -> list[Path]:
    return sorted(p for p in (root / source).iterdir() if p.is_dir())


def read_entity_file(folder: Path, entity: str) -> list[dict[str, str]]:
    """Rows of <folder>/<entity>.csv or .xlsx (empty cells as '')."""
    xlsx = folder / f"{entity}.xlsx"
    if xlsx.exists():
        ws = load_workbook(xlsx, read_only=True).active
        values = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
        return [dict(zip(values[0], r, strict=True)) for r in values[1:]]
    path = folder / f"{entity}.csv"
    if not path.exists() or path.stat().st_size == 0:
        return []
    return list(csv.DictReader(io.StringIO(decode(path), newline="")))


def rows_by_folder(root: Path, source: str, entity: str) -> Iterator[tuple[str, list[dict[str, str]]]]:
    for folder in day_folders(root, source):
        yield folder.name, read_entity_file(folder, entity)


def latest(root: Path, source: str, entity: str, key: str) -> dict[str, dict[str, str]]:
    """Latest version of each record: later updated_at wins, ties go to the later extract day."""
    best: dict[str, tuple[tuple[str, str], dict[str, str]]] = {}
    for day, rows in rows_by_folder(root, source, entity):
        for r in rows:
            rank = (r.get("updated_at", ""), day)
            if r[key] not in best or rank >= best[r[key]][0]:
                best[r[key]] = (rank, r)
    return {k: v[1] for k, v in best.items()}
