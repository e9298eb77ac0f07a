"""Turn a landing file into something DuckDB's CSV reader can scan: UTF-8 CSV, header first.

UTF-8 (with or without BOM) files are read in place; GB18030 files are transcoded and `accounts.xlsx`
is converted to a temporary UTF-8 CSV. The landing file itself is never modified.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ingest.fileinfo import CHUNK, FileInfo


def readable_csv(path: Path, info: FileInfo, tmpdir: Path) -> Path:
    """A UTF-8 CSV path with the same records as `path` (the file itself when already UTF-8)."""
    if info.encoding == "xlsx":
        return xlsx_to_csv(path, tmpdir / (path.stem + ".csv"))
    if info.encoding in ("utf-8", "utf-8-sig"):
        return path
    out = tmpdir / (path.name + ".utf8.csv")
    with path.open("r", encoding=info.encoding, newline="") as src, out.open(
        "w", encoding="utf-8", newline=""
    ) as dst:
        while text := src.read(CHUNK):
            dst.write(text)
    return out


def xlsx_to_csv(path: Path, out: Path) -> Path:
    """First sheet of a workbook as CSV text, every cell as text (empty cells stay empty)."""
    import pandas as pd

    frame = pd.read_excel(path, sheet_name=0, header=None, dtype=str, keep_default_na=False, na_values=[])
    frame.to_csv(out, header=False, index=False, encoding="utf-8", lineterminator="\n")
    return out


def read_header(csv_path: Path) -> list[str]:
    """Column names of the first line (RFC 4180 parsing, BOM stripped, names trimmed); [] if none."""
    with csv_path.open("rb") as f:
        first = f.readline()
    text = first.decode("utf-8-sig").rstrip("\r\n")
    if not text.strip():
        return []
    row = next(csv.reader(io.StringIO(text)), [])
    return [name.strip() for name in row]


def fetch_lines(csv_path: Path, line_numbers: set[int]) -> dict[int, str]:
    """Physical lines (1-based, split on LF only, line ending stripped) of a UTF-8 file, by number."""
    found: dict[int, str] = {}
    if not line_numbers:
        return found
    last = max(line_numbers)
    with csv_path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if number in line_numbers:
                found[number] = raw.decode("utf-8", errors="replace").rstrip("\r\n").lstrip("\ufeff")
            if number >= last:
                break
    return found
