"""Physical records of a CSV file, counted and split by one rule, independent of DuckDB's reader.

The rule (RFC 4180 framing, as DuckDB's and Python's readers frame records): a line ends at LF, CRLF
or a bare CR; a line end inside a quoted field belongs to the record; a quote opens a quoted field only
at the start of a field (elsewhere it is a literal character); inside one, `""` is a quote and a
single `"` closes it. A record of zero bytes (a blank line) is not a record. The header is the first.

`RecordCounter` counts records of raw bytes while the file is hashed (numpy, a few ms per 4 MB
chunk) by quote parity, which equals the rule when every quote is well placed (an opening quote
starts a field, a closing one ends it); it counts `misplaced_quotes` so the caller knows when it
does not. `split_records` applies the rule itself to decoded text. `"`, `,`, CR and LF are single
bytes in every allowed encoding, so both see the same framing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

QUOTE, LF, CR, COMMA = 34, 10, 13, 44
#: bytes allowed before an opening quote / after a closing one (-1: start or end of the file)
BEFORE_OPEN = (COMMA, LF, CR, QUOTE, -1)
AFTER_CLOSE = (COMMA, LF, CR, QUOTE, -1)


_NONE = np.zeros(0, dtype=np.intp)


def _one_of(values: np.ndarray, allowed: tuple[int, ...]) -> np.ndarray:
    """values == any of `allowed`, element-wise (cheaper than np.isin for a handful of values)."""
    result = values == allowed[0]
    for a in allowed[1:]:
        result |= values == a
    return result


class RecordCounter:
    """Feed the bytes of a file in order (`feed`), call `finish`, then read the counts."""

    def __init__(self) -> None:
        self.records = 0  # non-empty physical records, header included
        self.lines = 0  # physical lines (line ends + a final unterminated line)
        self.bare_crs = 0
        self.crlfs = 0
        self.lfs = 0
        self.nuls = 0
        self.misplaced_quotes = 0  # quotes parity framing may get wrong (then only split_records is right)
        self._prev_byte = -1  # last byte of the previous chunk
        self._close_at_end = False  # the previous chunk ended with a closing quote: check what follows
        self._offset = 0  # bytes counted so far (a held-back CR excluded)
        self._quotes = 0  # quotes so far: odd = inside a quoted field
        self._record_start = 0  # offset where the current record began
        self._line_start = 0
        self._carry = b""  # a CR ending the previous chunk: bare unless this chunk starts with LF

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        data = self._carry + chunk if self._carry else chunk
        self._carry = b""
        if data.endswith(b"\r") and not final:
            data, self._carry = data[:-1], b"\r"
        if not data:
            return
        arr = np.frombuffer(data, dtype=np.uint8)
        quotes = np.flatnonzero(arr == QUOTE) if b'"' in data else _NONE
        lfs = np.flatnonzero(arr == LF)
        crs = np.flatnonzero(arr == CR) if b"\r" in data else _NONE
        self.nuls += data.count(b"\0")
        self._check_quotes(arr, quotes)
        followed = np.zeros(len(crs), dtype=bool)
        inner = crs < len(arr) - 1
        followed[inner] = arr[crs[inner] + 1] == LF
        bare = crs[~followed]
        self.bare_crs += len(bare)
        self.crlfs += int(followed.sum())
        self.lfs += len(lfs)
        ends = np.sort(np.concatenate((lfs, bare))) if len(bare) else lfs
        if len(ends):
            self._count(arr, ends, quotes)
        self._quotes += len(quotes)
        self._offset += len(arr)
        self._prev_byte = int(arr[-1])

    def _check_quotes(self, arr: np.ndarray, quotes: np.ndarray) -> None:
        """Count quotes that open a field anywhere but at its start, or close it before its end."""
        if self._close_at_end:
            self._close_at_end = False
            self.misplaced_quotes += int(int(arr[0]) not in AFTER_CLOSE)
        if not len(quotes):
            return
        opening = (self._quotes + np.arange(len(quotes))) % 2 == 0
        before = np.where(quotes > 0, arr[np.maximum(quotes - 1, 0)], self._prev_byte)
        last = len(arr) - 1
        after = np.where(quotes < last, arr[np.minimum(quotes + 1, last)], COMMA)
        bad = (opening & ~_one_of(before, BEFORE_OPEN)) | (~opening & ~_one_of(after, AFTER_CLOSE))
        self.misplaced_quotes += int(np.count_nonzero(bad))
        self._close_at_end = bool(quotes[-1] == last and not opening[-1])

    def _count(self, arr: np.ndarray, ends: np.ndarray, quotes: np.ndarray) -> None:
        """Count the lines and the records ending at `ends` (positions in this chunk)."""
        self.lines += len(ends)
        absolute = ends + self._offset
        self._line_start = int(absolute[-1]) + 1
        outside = (self._quotes + np.searchsorted(quotes, ends)) % 2 == 0
        record_ends = ends[outside]
        if not len(record_ends):
            return
        crlf = np.zeros(len(record_ends), dtype=np.int64)
        has_prev = record_ends > 0
        crlf[has_prev] = (arr[record_ends[has_prev]] == LF) & (arr[record_ends[has_prev] - 1] == CR)
        record_abs = record_ends + self._offset
        starts = np.concatenate(([self._record_start], record_abs[:-1] + 1))
        self.records += int(np.count_nonzero(record_abs - starts - crlf > 0))
        self._record_start = int(record_abs[-1]) + 1

    def finish(self) -> None:
        """Count a held-back CR and a last line / record without a line end (once, after the last feed)."""
        if self._carry:
            self.feed(b"", final=True)
        self._close_at_end = False  # the end of the file may follow a closing quote
        if self._offset > self._line_start:
            self.lines += 1
        if self._offset > self._record_start:
            self.records += 1


@dataclass(frozen=True)
class Record:
    line: int  # 1-based physical line the record starts on
    lines: int  # physical lines it spans
    text: str  # its own text, line ends inside it kept, its final line end stripped
    terminated: bool  # False for a last record that ends without a line end


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def physical_lines(chunks: Iterable[str]) -> Iterator[str]:
    """Lines of a text stream, each with its line end (LF, CRLF or bare CR), across chunk borders."""
    rest = ""
    for chunk in chunks:
        text = rest + chunk
        if not text:
            continue
        # a CR at the very end may be the first half of a CRLF: keep it for the next chunk
        cut = len(text) - 1 if text.endswith("\r") else len(text)
        last_end = max(text.rfind("\n", 0, cut), text.rfind("\r", 0, cut))
        complete, rest = text[: last_end + 1], text[last_end + 1 :]
        yield from _LINE.findall(complete)
    if rest:
        yield from _LINE.findall(rest)


def split_records(lines: Iterable[str]) -> Iterator[Record]:
    """Records (the header first) of a stream of physical lines, by the rule in the module docstring."""
    number = 0
    parts: list[str] = []
    inside = False
    start = 1
    for line in lines:
        number += 1
        if not parts:
            if '"' not in line or not quoted_at_end(line, False):  # the common case: a one-line record
                body = _strip_end(line)
                if body:
                    yield Record(number, 1, body, body != line)
                continue
            start = number
        parts.append(line)
        inside = quoted_at_end(line, inside) if '"' in line else inside
        if inside:
            continue
        text = "".join(parts)
        parts = []
        body = _strip_end(text)
        if body:
            yield Record(start, number - start + 1, body, body != text)
    if parts:
        text = "".join(parts)
        body = _strip_end(text)
        if body:
            yield Record(start, number - start + 1, body, body != text)


def quoted_at_end(line: str, inside: bool) -> bool:
    """Whether a record is inside a quoted field after `line`, given whether it was before it."""
    i = line.find('"')
    while i >= 0:
        if inside:
            if line.startswith('"', i + 1):  # an escaped quote
                i = line.find('"', i + 2)
                continue
            inside = False
        elif i == 0 or line[i - 1] == ",":
            inside = True
        i = line.find('"', i + 1)
    return inside


def _strip_end(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith(("\n", "\r")):
        return text[:-1]
    return text
