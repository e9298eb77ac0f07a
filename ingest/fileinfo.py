"""Fingerprint a landing file (size, sha256) and detect its text encoding in one streaming pass."""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

CHUNK = 4 * 1024 * 1024
UTF8_BOM = codecs.BOM_UTF8


@dataclass(frozen=True)
class FileInfo:
    size: int
    mtime_ns: int
    sha256: str
    #: the first allowed encoding the whole file decodes in, None when none fits ("xlsx" for workbooks)
    encoding: str | None
    #: b"\n" count; with `ends_with_newline` it gives the physical line count
    newlines: int
    ends_with_newline: bool
    #: True when the file holds no non-whitespace byte (an empty file)
    blank: bool

    @property
    def physical_lines(self) -> int:
        return self.newlines + (0 if self.ends_with_newline or self.size == 0 else 1)


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
    newlines = 0
    blank = True
    last = b""
    first = True
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            if first and not chunk.startswith(UTF8_BOM):
                decoders.pop("utf-8-sig", None)
            first = False
            newlines += chunk.count(b"\n")
            blank = blank and chunk.isspace()
            last = chunk[-1:]
            for enc in list(decoders):
                try:
                    decoders[enc].decode(chunk)
                except UnicodeDecodeError:
                    del decoders[enc]
    encoding = "utf-8" if reader_checks_utf8 else _finish(decoders)
    if path.suffix.lower() == ".xlsx":
        encoding = "xlsx"
    return FileInfo(size, mtime_ns, h.hexdigest(), encoding, newlines, last == b"\n", blank)


def _finish(decoders: dict[str, codecs.IncrementalDecoder]) -> str | None:
    for enc, dec in decoders.items():
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return enc
    return None
