"""Strict parsing of the dates and months people type: `YYYY-MM-DD` and `YYYY-MM`, nothing else.

`date.fromisoformat` also takes `20250101` and `2025-W01-1`, and `strptime("%Y-%m")` takes `2025-1`;
a typo must be refused with a message saying what was expected, not read as some other day.
"""

from __future__ import annotations

import re
from datetime import date


def _subject(what: str, text: str) -> str:
    return f"{what} {text!r}".strip()


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"\d{4}-\d{2}")


class DateFormatError(ValueError):
    """A text is not a valid day (`YYYY-MM-DD`) or month (`YYYY-MM`); the message says which and why."""


def parse_day(text: str, what: str = "date") -> date:
    """`2025-01-31` -> date(2025, 1, 31); anything else (`2025-1-31`, `2024-13-01`, `2024-02-30`) raises.

    `what` names the value in the message ("--through", "folder name"); "" leaves it out."""
    value = text.strip()
    if not _DAY.fullmatch(value):
        raise DateFormatError(f"{_subject(what, text)} is not a date in the form YYYY-MM-DD (e.g. 2025-01-31)")
    try:
        return date(int(value[:4]), int(value[5:7]), int(value[8:]))
    except ValueError as exc:
        raise DateFormatError(f"{_subject(what, text)} is not a calendar date ({exc})") from exc


def parse_month(text: str, what: str = "month") -> date:
    """`2025-01` -> date(2025, 1, 1) (the month's first day); `2025-1`, `2025-13`, `2025-01-01` raise."""
    value = text.strip()
    if not _MONTH.fullmatch(value):
        raise DateFormatError(f"{_subject(what, text)} is not a month in the form YYYY-MM (e.g. 2025-01)")
    month = int(value[5:])
    if not 1 <= month <= 12:
        raise DateFormatError(f"{_subject(what, text)} has month {month:02d}; months are 01..12")
    return date(int(value[:4]), month, 1)
