"""Fingerprint a landing file (size, sha256), detect its text encoding and count its physical records
(`ingest.records`) in one streaming pass."""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

from ingest.records import RecordCounter

CHUNK = 4 * 1024 * 1024
UTF8_BOM = codecs.BOM_UTF8


@dataclass(frozen=True)
class FileInfo:
    size: int
    mtime_ns: int
    sha256: str
    #: the first allowed encoding the whole file decodes in, None when none fits ("xlsx" for workbooks)
    encoding: str | None
    #: True when the file holds no non-whitespace byte (an empty file)
    blank: bool
    #: non-empty physical records, header included (`ingest.records`; for text files only)
    records: int = 0
    #: physical lines: line ends (LF, CRLF, bare CR) plus a last line without one
    physical_lines: int = 0
    bare_crs: int = 0
    crlfs: int = 0
    lfs: int = 0
    nuls: int = 0
    misplaced_quotes: int = 0

    @property
    def data_records(self) -> int:
        """Physical records after the header: what `rows_read` must equal."""
        return max(self.records - 1, 0)

    @property
    def regular(self) -> bool:
        """Every line end LF, or every one CRLF; one record per line, no blank line, no NUL, every quote
        well placed: DuckDB's reader may read the file and number its rows."""
        return (
            self.bare_crs == 0 and self.crlfs in (0, self.lfs) and self.nuls == 0 and self.misplaced_quotes == 0
            and self.physical_lines == self.records
        )


def file_stat(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def inspect_file(path: Path, encodings: tuple[str, ...], *, reader_checks_utf8: bool = False) -> FileInfo:
    """Hash the file and find the first of `encodings` it decodes in (utf-8-sig only with a BOM).

    `.xlsx` workbooks are binary: their encoding is reported as "xlsx". With `reader_checks_utf8` a
    UTF-8-only file is not decoded here: it is reported as "utf-8" and the caller's CSV reader, which
    validates UTF-8 anyway, must reject it if it is not.
    """
    size, mtime_ns = file_stat(path)
    h = hashlib.sha256()
    if reader_checks_utf8 and encodings == ("utf-8",):
        encodings = ()
    else:
        reader_checks_utf8 = False
    # a BOM file also decodes as plain utf-8: try utf-8-sig first so the BOM is stripped
    order = sorted(encodings, key=lambda enc: enc != "utf-8-sig")
    decoders = {enc: codecs.getincrementaldecoder(enc)() for enc in order}
    counter = RecordCounter()
    blank = True
    first = True
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            if first and not chunk.startswith(UTF8_BOM):
                decoders.pop("utf-8-sig", None)
            first = False
            counter.feed(chunk)
            blank = blank and chunk.isspace()
            for enc in list(decoders):
                try:
                    decoders[enc].decode(chunk)
                except UnicodeDecodeError:
                    del decoders[enc]
    counter.finish()
    encoding = "utf-8" if reader_checks_utf8 else _finish(decoders)
    if path.suffix.lower() == ".xlsx":
        encoding = "xlsx"
    return FileInfo(
        size, mtime_ns, h.hexdigest(), encoding, blank, counter.records, counter.lines, counter.bare_crs,
        counter.crlfs, counter.lfs, counter.nuls, counter.misplaced_quotes,
    )


def count_records(path: Path) -> RecordCounter:
    """The physical records of a (converted) text file, e.g. the CSV made from a workbook."""
    counter = RecordCounter()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            counter.feed(chunk)
    counter.finish()
    return counter


def _finish(decoders: dict[str, codecs.IncrementalDecoder]) -> str | None:
    for enc, dec in decoders.items():
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return enc
    return None
