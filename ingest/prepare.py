"""Turn a landing file into something DuckDB's CSV reader can scan: UTF-8 CSV, header first.

UTF-8 (with or without BOM) files are read in place; GB18030 files are transcoded and `accounts.xlsx`
is converted to a temporary UTF-8 CSV. The landing file itself is never modified.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

from ingest.errors import FileRejected
from ingest.fileinfo import CHUNK, FileInfo
from ingest.records import Record, physical_lines, split_records

#: the first bytes of every xlsx file (a zip container)
ZIP_SIGNATURE = b"PK\x03\x04"
#: chunk size for reading only the first records of a file
HEAD_CHUNK = 64 * 1024


def readable_csv(rel: str, path: Path, info: FileInfo, tmpdir: Path) -> Path:
    """A UTF-8 CSV path with the same records as `path` (the file itself when already UTF-8);
    FileRejected for a workbook that cannot be read."""
    if info.encoding == "xlsx":
        return xlsx_to_csv(rel, path, tmpdir / (path.stem + ".csv"))
    if info.encoding in ("utf-8", "utf-8-sig"):
        return path
    out = tmpdir / (path.name + ".utf8.csv")
    with path.open("r", encoding=info.encoding, newline="") as src, out.open(
        "w", encoding="utf-8", newline=""
    ) as dst:
        while text := src.read(CHUNK):
            dst.write(text)
    return out


def xlsx_to_csv(rel: str, path: Path, out: Path) -> Path:
    """First sheet of a workbook as CSV text, every cell as text (empty cells stay empty)."""
    import pandas as pd

    with path.open("rb") as f:
        signature = f.read(len(ZIP_SIGNATURE))
    if signature != ZIP_SIGNATURE:
        raise FileRejected(
            rel, f"not_a_workbook: {path.name} is not an Excel workbook (no xlsx container; a CSV must be named .csv)"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's style warnings are noise here
            frame = pd.read_excel(path, sheet_name=0, header=None, dtype=str, keep_default_na=False, na_values=[])
    except Exception as exc:  # a hostile workbook can fail anywhere in zipfile/zlib/openpyxl/pandas
        raise FileRejected(
            rel, f"unreadable_workbook: {path.name} cannot be read as a workbook ({type(exc).__name__})"
        ) from exc
    frame.to_csv(out, header=False, index=False, encoding="utf-8", lineterminator="\n")
    return out


def first_records(csv_path: Path, n: int) -> list[Record]:
    """The first `n` records of a UTF-8 file (BOM stripped), by the rule of `ingest.records`."""
    with csv_path.open("r", encoding="utf-8-sig", newline="") as f:
        lines = physical_lines(iter(lambda: f.read(HEAD_CHUNK), ""))
        return list(itertools.islice(split_records(lines), n))


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
